import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { ApiError } from '../api/http';
import { groupsApi } from '../api/endpoints';
import type { GroupInfo, GroupListEntry, GroupMemberEntry, GroupRole, GroupVisibility, GroupWireMessage, PublicUser, ServerToClientEvents } from '../wire';
import { useSessionStore } from './session';

/** A group's name: 1–50 characters after trimming. */
export const MAX_GROUP_NAME = 50;

export type GroupMemberEvent = Parameters<ServerToClientEvents['group:member']>[0];

const activity = (e: GroupListEntry) => e.lastMessage?.createdAt ?? e.group.createdAt;

/** My groups (role, unread, mute), every group seen, members of the groups looked at, and the actions on them. */
export const useGroupsStore = defineStore('friendChatGroups', () => {
  const session = useSessionStore();
  const entries = ref<Record<string, GroupListEntry>>({});
  const loaded = ref(false);
  /** Any group seen (my list, a window, discover), for names and avatars. */
  const known = ref<Record<string, GroupInfo>>({});
  /** Members of the groups whose member list was fetched. */
  const members = ref<Record<string, GroupMemberEntry[]>>({});
  /** Everyone met in a group (members, people named by group events), for sender names. */
  const people = ref<Record<string, PublicUser>>({});

  const list = computed(() => Object.values(entries.value).sort((a, b) => (activity(a) < activity(b) ? 1 : -1)));
  const byId = (groupId: string): GroupInfo | undefined => known.value[groupId];
  /** Before the list arrives every group counts as mine; after it, only those on it. */
  const isMember = (groupId: string) => !loaded.value || !!entries.value[groupId];
  const roleIn = (groupId: string): GroupRole | null => entries.value[groupId]?.role ?? null;

  function remember(groups: GroupInfo[]): void {
    if (groups.length) known.value = { ...known.value, ...Object.fromEntries(groups.map((g) => [g.id, g])) };
  }
  /** `latest`: these are current (a member list); otherwise (a past event's) they only fill gaps. */
  function meet(users: PublicUser[], latest = true): void {
    if (!users.length) return;
    const met = Object.fromEntries(users.map((u) => [u.id, u]));
    people.value = latest ? { ...people.value, ...met } : { ...met, ...people.value };
  }
  function setEntry(groupId: string, entry: GroupListEntry | null): void {
    const { [groupId]: _old, ...rest } = entries.value;
    entries.value = entry ? { ...rest, [groupId]: entry } : rest;
  }
  const patchEntry = (groupId: string, patch: Partial<GroupListEntry>) => {
    const e = entries.value[groupId];
    if (e) setEntry(groupId, { ...e, ...patch });
  };

  // Bumped by reset: an answer that arrives for a previous user is dropped.
  let generation = 0;

  async function load(): Promise<void> {
    const gen = generation;
    const { groups } = await groupsApi.mine();
    if (gen !== generation) return;
    entries.value = Object.fromEntries(groups.map((e) => [e.group.id, e]));
    remember(groups.map((e) => e.group));
    loaded.value = true;
  }

  // Opening a window and mounting it both ask; one request serves them.
  const fetching = new Map<string, Promise<void>>();

  /** The group and its members; a group I may not see (left, private) lists none. */
  function fetchMembers(groupId: string): Promise<void> {
    const running = fetching.get(groupId);
    if (running) return running;
    const job = fetchMembersNow(groupId).finally(() => fetching.delete(groupId));
    fetching.set(groupId, job);
    return job;
  }

  async function fetchMembersNow(groupId: string): Promise<void> {
    const gen = generation;
    try {
      const detail = await groupsApi.get(groupId);
      if (gen !== generation) return;
      applyGroup(detail.group);
      members.value = { ...members.value, [groupId]: detail.members };
      meet(detail.members.map((m) => m.user));
      const mine = detail.members.find((m) => m.user.id === session.userId);
      if (mine) patchEntry(groupId, { role: mine.role });
    } catch (err) {
      if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 404)) throw err;
      // Not mine to see (any more): nobody to list.
      if (gen === generation) members.value = { ...members.value, [groupId]: [] };
    }
  }

  function joined(group: GroupInfo, role: GroupRole): void {
    remember([group]);
    setEntry(group.id, entries.value[group.id] ?? { group, role, unread: 0, lastMessage: null, muted: false });
  }

  async function create(name: string, memberIds: string[], visibility: GroupVisibility): Promise<GroupInfo> {
    const { group } = await groupsApi.create({ name, memberIds, visibility });
    joined(group, 'owner');
    return group;
  }

  async function join(groupId: string): Promise<GroupInfo> {
    const { group } = await groupsApi.join(groupId);
    joined(group, 'member');
    return group;
  }

  async function leave(groupId: string): Promise<void> {
    await groupsApi.removeMember(groupId, session.userId);
    setEntry(groupId, null);
    dropMembers(groupId, [session.userId]);
  }

  async function addMembers(groupId: string, userIds: string[]): Promise<void> {
    await groupsApi.addMembers(groupId, userIds);
    await fetchMembers(groupId);
  }

  async function removeMember(groupId: string, userId: string): Promise<void> {
    await groupsApi.removeMember(groupId, userId);
    dropMembers(groupId, [userId]);
  }

  async function setRole(groupId: string, userId: string, role: 'admin' | 'member'): Promise<void> {
    const { member } = await groupsApi.setRole(groupId, userId, role);
    const list = members.value[groupId];
    if (list) members.value = { ...members.value, [groupId]: list.map((m) => (m.user.id === userId ? member : m)) };
  }

  async function update(groupId: string, patch: { name?: string; visibility?: GroupVisibility }): Promise<void> {
    applyGroup((await groupsApi.update(groupId, patch)).group);
  }

  /** `group:update`, or any fresh copy of a group. */
  function applyGroup(group: GroupInfo): void {
    remember([group]);
    patchEntry(group.id, { group });
  }

  function dropMembers(groupId: string, userIds: string[]): void {
    const list = members.value[groupId];
    if (list) members.value = { ...members.value, [groupId]: list.filter((m) => !userIds.includes(m.user.id)) };
  }

  /** `group:member`: someone joined, was added, left, was removed or changed role (maybe me). */
  async function applyMemberEvent(e: GroupMemberEvent): Promise<void> {
    applyGroup(e.group);
    const aboutMe = e.userIds.includes(session.userId);
    if (e.event === 'left' || e.event === 'removed') {
      if (aboutMe) setEntry(e.groupId, null);
      dropMembers(e.groupId, e.userIds);
    } else if (e.event === 'role') {
      // Also how ownership passes on when the owner leaves.
      if (aboutMe && e.role) patchEntry(e.groupId, { role: e.role });
      const list = members.value[e.groupId];
      if (list && e.role) members.value = { ...members.value, [e.groupId]: list.map((m) => (e.userIds.includes(m.user.id) ? { ...m, role: e.role! } : m)) };
    } else {
      if (aboutMe) joined(e.group, 'member');
      // The newcomers' names and pictures.
      if (members.value[e.groupId]) await fetchMembers(e.groupId);
    }
  }

  /** `group:read`: a member's read position moved ("read by N" on my messages follows it). */
  function applyRead(groupId: string, userId: string, readAt: string): void {
    const list = members.value[groupId];
    if (list?.some((m) => m.user.id === userId)) {
      members.value = { ...members.value, [groupId]: list.map((m) => (m.user.id === userId ? { ...m, readAt } : m)) };
    }
  }

  /** A message passed by: the group's latest activity, for the order of the list. */
  function note(m: GroupWireMessage): void {
    const e = entries.value[m.groupId];
    if (e && (!e.lastMessage || e.lastMessage.createdAt <= m.createdAt)) setEntry(m.groupId, { ...e, lastMessage: m });
  }

  function reset(): void {
    generation++;
    fetching.clear();
    entries.value = {};
    loaded.value = false;
    known.value = {};
    members.value = {};
    people.value = {};
  }

  return {
    entries, loaded, known, members, people, list,
    byId, isMember, roleIn, remember, meet, load, fetchMembers, create, join, leave, addMembers, removeMember,
    setRole, update, applyGroup, applyMemberEvent, applyRead, note, reset,
  };
});
