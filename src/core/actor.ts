/** Who did something, for the audit record written in the same transaction. */
export interface Actor {
  actor: string;
  source: 'cli' | 'api' | 'console' | 'sync' | 'system';
}
