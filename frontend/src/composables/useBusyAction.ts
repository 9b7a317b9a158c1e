import { ref } from 'vue';
import { useMessage } from 'naive-ui';
import { useErrorText } from './useErrorText';

/** Run a button's action with a spinner on that button and a toast if it fails. */
export function useBusyAction() {
  const toast = useMessage();
  const errorText = useErrorText();
  const busy = ref<string | null>(null);
  async function run(key: string, action: () => Promise<unknown>): Promise<void> {
    busy.value = key;
    try {
      await action();
    } catch (err) {
      toast.error(errorText(err));
    } finally {
      busy.value = null;
    }
  }
  return { busy, run };
}
