import { spawn, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect, createServer } from 'node:net';
import { waitFor } from './helpers.js';

/** A port nothing listens on (taken from the OS, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A throw-away redis-server child on its own port, nothing kept on disk; can be killed and restarted. */
export class PrivateRedisServer {
  private child: ChildProcess | undefined;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    // Should the test process end without afterAll (crash, hard timeout), take the server along.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`redis-server exited early (${code})`))),
    );
    await Promise.race([waitFor(() => this.answersPing()), exited]);
    exited.catch(() => undefined);
  }

  /** SIGKILL: connections drop at once, as when a Redis host dies. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  private answersPing(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = tcpConnect(this.port, '127.0.0.1');
      let reply = '';
      socket.on('connect', () => socket.write('PING\r\n'));
      socket.on('data', (chunk) => {
        reply += chunk.toString();
        if (reply.includes('\r\n')) socket.end();
      });
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(reply.startsWith('+PONG')));
    });
  }
}
