// What the sync needs from the users engine, and its adapter over UserService: every
// write goes through UserService (validated, with a 'user' change row and an audit row).
import type { Actor } from '../core/actor.js';
import type { UserRecord, UserService } from '../core/users.js';

export interface SyncUsers {
  list(): UserRecord[];
  find(username: string): UserRecord | undefined;
  /** A user whose password is checked by the directory: no local hash, no NT hash. */
  addSynced(input: { username: string; groups: string[]; enabled: boolean; source: string }, by: Actor): UserRecord;
  /** Replaces the user's groups. */
  setGroups(username: string, groups: string[], by: Actor): void;
  /** False when it was already so. */
  setEnabled(username: string, enabled: boolean, by: Actor): boolean;
}

export function syncUsersFrom(users: UserService): SyncUsers {
  return {
    list: () => users.list(),
    find: (username) => users.find(username),
    addSynced: (input, by) => users.addExternal(input, by),
    setGroups(username, groups, by) {
      users.setGroups(username, groups, by);
    },
    setEnabled: (username, enabled, by) => users.setEnabled(username, enabled, by),
  };
}
