// The logger interface library code takes, and a small JSON-lines implementation.
// Secrets never go into a log record: callers pass identifiers, not values.

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function jsonLogger(write: (line: string) => void, minLevel: Level = 'info', bindings: object = {}): Logger {
  const emit = (level: Level, obj: object, msg?: string): void => {
    if (RANK[level] < RANK[minLevel]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, ...bindings, ...obj, ...(msg ? { msg } : {}) }) + '\n');
  };
  return {
    debug: (o, m) => emit('debug', o, m),
    info: (o, m) => emit('info', o, m),
    warn: (o, m) => emit('warn', o, m),
    error: (o, m) => emit('error', o, m),
    child: (b) => jsonLogger(write, minLevel, { ...bindings, ...b }),
  };
}

export const silentLogger: Logger = {
  debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => silentLogger,
};
