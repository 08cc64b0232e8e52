// What the sync needs from the users engine, and its adapter over UserService: every
// write goes through UserService (validated, with a 'user' change row and an audit row).
import type { Actor } from '../core/actor.js';
import type { UserRecord, UserService } from '../core/users.js';

/** Display name and e-mail as the directory has them; null: the directory has none. */
export interface DirectoryProfile {
  displayName: string | null;
  email: string | null;
}

export interface SyncUsers {
  list(): UserRecord[];
  find(username: string): UserRecord | undefined;
  /** Only these users (by id, or by name case-insensitively): what an incremental run reads. */
  findMany(ids: readonly number[], usernames: readonly string[]): UserRecord[];
  /** Users whose password is checked by the directory (no local hash, no NT hash), all at once; their ids in order. */
  addSynced(inputs: readonly ({ username: string; groups: string[]; enabled: boolean; source: string } & Partial<DirectoryProfile>)[], by: Actor): number[];
  /** Replaces the user's groups. */
  setGroups(username: string, groups: string[], by: Actor): void;
  /** Sets the display name and e-mail (null clears one). */
  setProfile(username: string, profile: DirectoryProfile, by: Actor): void;
  /** False when it was already so. */
  setEnabled(username: string, enabled: boolean, by: Actor): boolean;
}

export function syncUsersFrom(users: UserService): SyncUsers {
  return {
    list: () => users.list(),
    find: (username) => users.find(username),
    findMany: (ids, usernames) => users.findMany(ids, usernames),
    addSynced: (inputs, by) => users.addExternalMany(inputs, by),
    setGroups(username, groups, by) {
      users.setGroups(username, groups, by);
    },
    setProfile(username, profile, by) {
      users.updateProfile(username, { displayName: profile.displayName, email: profile.email }, by);
    },
    setEnabled: (username, enabled, by) => users.setEnabled(username, enabled, by),
  };
}
