// The host app's demo surface (people, works, tasks, achievements): not part of the chat module.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AchievementEntry, TaskEntry, WorkEntry } from '@shared/events';
import { useFriendChat } from 'friend-chat/vue';
import { hostApi, type PersonEntry } from '@/api/endpoints';

export const useHostStore = defineStore('host', () => {
  const chat = useFriendChat();
  const people = ref<PersonEntry[]>([]);
  const works = ref<WorkEntry[]>([]);
  const tasks = ref<TaskEntry[]>([]);
  const achievements = ref<AchievementEntry[]>([]);

  async function searchPeople(q = ''): Promise<void> {
    people.value = (await hostApi.users(q)).users;
  }

  async function setFollowing(userId: string, follow: boolean): Promise<void> {
    const res = follow ? await hostApi.follow(userId) : await hostApi.unfollow(userId);
    people.value = people.value.map((p) => (p.id === userId ? { ...p, following: res.following } : p));
    // A follow back (or an unfollow) changes the friends list.
    await chat.reloadFriends();
  }

  async function loadWorks(): Promise<void> {
    works.value = (await hostApi.works()).works;
  }

  async function publishWork(title: string, price: number): Promise<void> {
    const { work } = await hostApi.createWork(title, price);
    works.value = [work, ...works.value];
  }

  async function purchase(workId: string): Promise<void> {
    await hostApi.purchase(workId);
    works.value = works.value.map((w) => (w.id === workId ? { ...w, purchasedByMe: true } : w));
    void loadAchievements();
  }

  async function loadTasks(): Promise<void> {
    tasks.value = (await hostApi.tasks()).tasks;
  }

  async function completeTask(taskId: string): Promise<void> {
    await hostApi.completeTask(taskId);
    await Promise.all([loadTasks(), loadAchievements()]);
  }

  async function loadAchievements(): Promise<void> {
    achievements.value = (await hostApi.achievements()).achievements;
  }

  function reset(): void {
    people.value = [];
    works.value = [];
    tasks.value = [];
    achievements.value = [];
  }

  return { people, works, tasks, achievements, searchPeople, setFollowing, loadWorks, publishWork, purchase, loadTasks, completeTask, loadAchievements, reset };
});
