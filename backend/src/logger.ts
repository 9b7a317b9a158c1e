export type LogLevel = 'silent' | 'error' | 'info' | 'debug';
const ORDER: Record<LogLevel, number> = { silent: 0, error: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, err?: unknown): void;
  info(msg: string): void;
  debug(msg: string): void;
}

export function createLogger(level: LogLevel): Logger {
  const on = (l: LogLevel) => ORDER[l] <= ORDER[level];
  const stamp = () => new Date().toISOString();
  return {
    error: (msg, err) => on('error') && console.error(`${stamp()} ERROR ${msg}`, err ?? ''),
    info: (msg) => on('info') && console.log(`${stamp()} ${msg}`),
    debug: (msg) => on('debug') && console.log(`${stamp()} DEBUG ${msg}`),
  };
}
