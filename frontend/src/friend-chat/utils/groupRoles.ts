// Who may do what in a group (DESIGN.md, "Groups"); the server enforces the same rules, the
// window only offers what will succeed.
import type { GroupRole } from '../wire';

/** Rename, change visibility, remove members. */
export const canManage = (mine: GroupRole | null): boolean => mine === 'owner' || mine === 'admin';

/** The owner removes admins and members, an admin removes members; nobody removes the owner (leaving is separate). */
export function canRemove(mine: GroupRole | null, theirs: GroupRole, self: boolean): boolean {
  if (self || theirs === 'owner') return false;
  return mine === 'owner' || (mine === 'admin' && theirs === 'member');
}

/** Only the owner makes or unmakes admins. */
export const canSetRole = (mine: GroupRole | null, theirs: GroupRole, self: boolean): boolean => mine === 'owner' && !self && theirs !== 'owner';

const ORDER: Record<GroupRole, number> = { owner: 0, admin: 1, member: 2 };
/** Owner first, then admins, then members, each by name. */
export const byRole = <M extends { role: GroupRole; user: { displayName: string } }>(a: M, b: M): number =>
  ORDER[a.role] - ORDER[b.role] || a.user.displayName.localeCompare(b.user.displayName);
