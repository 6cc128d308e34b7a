import { describe, expect, it } from '@jest/globals';
import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from '@apollo/server';
import { mergeRequestPlugins } from '../../src/graphql/plugins.js';

/** The gateway's own Apollo plugins run as one (src/server/apollo.ts): same hooks, same order. */

const requestContext = {} as GraphQLRequestContext<BaseContext>;

function recording(name: string, calls: string[]): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation() {
          calls.push(`${name}.didResolveOperation`);
        },
        async willSendResponse() {
          calls.push(`${name}.willSendResponse`);
        },
      };
    },
  };
}

async function listenerOf(plugin: ApolloServerPlugin) {
  const listener = await plugin.requestDidStart?.(requestContext);
  if (!listener) throw new Error('no listener');
  return listener;
}

describe('mergeRequestPlugins', () => {
  it('runs every plugin hook, in plugin order, and reuses one listener for every request', async () => {
    const calls: string[] = [];
    const merged = mergeRequestPlugins([
      recording('a', calls),
      { async requestDidStart() {} },
      recording('b', calls),
    ]);
    const listener = await listenerOf(merged);
    await listener.didResolveOperation?.(requestContext as never);
    await listener.willSendResponse?.(requestContext as never);
    expect(calls).toEqual([
      'a.didResolveOperation',
      'b.didResolveOperation',
      'a.willSendResponse',
      'b.willSendResponse',
    ]);
    expect(await listenerOf(merged)).toBe(listener);
  });

  it('a hook that throws stops the request: the error reaches Apollo', async () => {
    const refusing: ApolloServerPlugin = {
      async requestDidStart() {
        return {
          didResolveOperation() {
            throw new Error('too complex');
          },
        };
      },
    };
    const listener = await listenerOf(mergeRequestPlugins([refusing]));
    await expect(
      Promise.resolve().then(() => listener.didResolveOperation?.(requestContext as never)),
    ).rejects.toThrow('too complex');
  });

  it('refuses plugins it cannot merge faithfully', async () => {
    const withExecution: ApolloServerPlugin = {
      async requestDidStart() {
        return { async executionDidStart() {} };
      },
    };
    await expect(listenerOf(mergeRequestPlugins([withExecution]))).rejects.toThrow('executionDidStart');
    const withServerHook: ApolloServerPlugin = { async serverWillStart() {} };
    await expect(listenerOf(mergeRequestPlugins([withServerHook]))).rejects.toThrow('requestDidStart alone');
  });
});
