// Command specs and argument parsing: every command has --help; a wrong argument says
// what is wrong and exits 2; a failure is one clear line and exit 1.
import { parseArgs } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  required?: boolean;
  /** Shown in help, e.g. "DIR". */
  arg?: string;
  help: string;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export interface CommandSpec {
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  run(values: Values, io: Output): Promise<void> | void;
}

export function helpText(spec: CommandSpec): string {
  const lines = [`authbox ${spec.name} — ${spec.summary}`, '', 'Options:'];
  const entries = Object.entries({ ...spec.options, help: { type: 'boolean', help: 'show this help' } as OptionSpec });
  const width = Math.max(...entries.map(([n, o]) => n.length + (o.arg ? o.arg.length + 1 : 0))) + 4;
  for (const [name, o] of entries) {
    const left = `--${name}${o.arg ? ' ' + o.arg : ''}`;
    const tags = [o.required ? 'required' : '', o.multiple ? 'repeatable' : ''].filter(Boolean).join(', ');
    lines.push(`  ${left.padEnd(width)}${o.help}${tags ? ` (${tags})` : ''}`);
  }
  return lines.join('\n') + '\n';
}

export function parseCommand(spec: CommandSpec, argv: string[]): Values | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}) };
  let values: Values;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    // node:util messages are precise but long; keep their first sentence.
    throw new UsageError((e as Error).message.split('. ')[0]!.replace(/^Unknown option/, 'unknown option'));
  }
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.required && (values[name] === undefined || values[name] === '')) throw new UsageError(`--${name} is required`);
    const v = values[name];
    if (o.type === 'string' && typeof v === 'string' && v === '') throw new UsageError(`--${name} needs a value`);
  }
  return values;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function intOption(values: Values, name: string): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, not "${v}"`);
  return Number(v);
}

export function oneOf<T extends string>(values: Values, name: string, allowed: readonly T[]): T | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, not "${v}"`);
  return v as T;
}
