// type-graphql needs decorator metadata before any decorated class is loaded.
import 'reflect-metadata';
