// What the sync needs from the users engine, and an adapter over UserService. UserService
// has no way yet to add a user without a local password or to replace a user's groups;
// until it has (see the report of issue "LDAP sync"), those two writes go through
// InterimUserWrites (store/ldap-store.ts), which keeps the same rules: validated names,
// a 'user' change row and an audit row in the caller's transaction.
import type { Actor } from '../core/actor.js';
import { validateGroupName, validateUsername, type UserRecord, type UserService } from '../core/users.js';

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

export interface InterimUserWrites {
  insertSyncedUser(row: { username: string; groups: string[]; enabled: boolean; source: string; at: number }, by: Actor): UserRecord;
  setUserGroups(userId: number, groups: string[], at: number, by: Actor): void;
}

export function syncUsersFrom(users: UserService, interim: InterimUserWrites, clock: () => Date = () => new Date()): SyncUsers {
  return {
    list: () => users.list(),
    find: (username) => users.find(username),
    addSynced(input, by) {
      validateUsername(input.username);
      input.groups.forEach(validateGroupName);
      return interim.insertSyncedUser({ ...input, at: clock().getTime() }, by);
    },
    setGroups(username, groups, by) {
      groups.forEach(validateGroupName);
      interim.setUserGroups(users.get(username).id, groups, clock().getTime(), by);
    },
    setEnabled: (username, enabled, by) => users.setEnabled(username, enabled, by),
  };
}
