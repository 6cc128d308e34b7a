import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Collects unhandled rejections and uncaught exceptions while a fuzz suite runs. */
export function watchProcess(): { problems: string[]; stop(): void } {
  const problems: string[] = [];
  const onRejection = (reason: unknown) => problems.push(`unhandled rejection: ${String(reason)}`);
  const onException = (error: unknown) => problems.push(`uncaught exception: ${String(error)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtExceptionMonitor', onException);
  return {
    problems,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtExceptionMonitor', onException);
    },
  };
}

/** Heap in use after a full garbage collection (the gc function is enabled at run time). */
export function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A response text carries no stack trace and no key. */
export function leaks(text: string): string | undefined {
  if (/\n\s+at .+\(.+:\d+:\d+\)/.test(text) || /"stack"\s*:/.test(text)) return 'a stack trace';
  if (/skey_|pkey_/.test(text)) return 'an Omise key';
  return undefined;
}
