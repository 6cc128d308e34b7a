import { print, type DocumentNode } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** How one WebSocket operation ended, as a client sees it. */
export type WsOutcome =
  /** The first result carried data (for chargeStatus: the current state). */
  | { kind: 'data'; data: Record<string, unknown> }
  /** Refused or failed: the errors' `extensions.code`s. */
  | { kind: 'errors'; codes: string[]; messages: string[]; extensions: Record<string, unknown>[] }
  /** The socket was closed (e.g. 4403 at connection_init). */
  | { kind: 'closed'; code: number };

/**
 * Opens a graphql-ws connection with `connectionParams.authorization` (when given), runs one operation,
 * returns how it ended after its first result, and closes the connection.
 */
export async function wsFirstResult(
  graphqlUrl: string,
  authorization: string | undefined,
  document: DocumentNode | string,
  variables: Record<string, unknown>,
): Promise<WsOutcome> {
  const client = createClient({
    url: graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    lazyCloseTimeout: 0,
    connectionParams: authorization === undefined ? {} : { authorization },
  });
  try {
    return await new Promise<WsOutcome>((resolve) => {
      const unsubscribe = client.subscribe(
        { query: typeof document === 'string' ? document : print(document), variables },
        {
          next: (result) => {
            const errors = (result.errors ?? []) as unknown as {
              message: string;
              extensions?: Record<string, unknown>;
            }[];
            if (errors.length > 0) {
              resolve({
                kind: 'errors',
                codes: errors.map((e) => String(e.extensions?.['code'])),
                messages: errors.map((e) => e.message),
                extensions: errors.map((e) => e.extensions ?? {}),
              });
            } else {
              resolve({ kind: 'data', data: result.data as Record<string, unknown> });
            }
            unsubscribe();
          },
          error: (error) => {
            if (Array.isArray(error)) {
              const errors = error as { message: string; extensions?: Record<string, unknown> }[];
              resolve({
                kind: 'errors',
                codes: errors.map((e) => String(e.extensions?.['code'])),
                messages: errors.map((e) => e.message),
                extensions: errors.map((e) => e.extensions ?? {}),
              });
            } else {
              const code = (error as { code?: unknown } | null)?.code;
              resolve({ kind: 'closed', code: typeof code === 'number' ? code : -1 });
            }
          },
          complete: () => undefined,
        },
      );
    });
  } finally {
    await client.dispose();
  }
}
