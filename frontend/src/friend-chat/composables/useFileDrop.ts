// Files pasted (a screenshot from the clipboard) or dragged into a chat window go to its preview.
// Text pastes and drags of anything but files are left to the browser.
import { ref } from 'vue';

const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');

export function useFileDrop(accept: () => boolean, onFiles: (files: File[]) => void) {
  /** A drag with files is over the window. */
  const dragging = ref(false);
  // dragenter/dragleave fire for every child crossed: count them to know when the drag left.
  let depth = 0;

  function onDragEnter(e: DragEvent): void {
    if (!hasFiles(e) || !accept()) return;
    e.preventDefault();
    depth++;
    dragging.value = true;
  }

  function onDragOver(e: DragEvent): void {
    if (!hasFiles(e) || !accept()) return;
    e.preventDefault(); // allows the drop
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  }

  function onDragLeave(e: DragEvent): void {
    if (!hasFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) dragging.value = false;
  }

  function onDrop(e: DragEvent): void {
    depth = 0;
    dragging.value = false;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (!files.length || !accept()) return;
    e.preventDefault();
    onFiles(files);
  }

  function onPaste(e: ClipboardEvent): void {
    const files = [...(e.clipboardData?.files ?? [])];
    if (!files.length || !accept()) return;
    e.preventDefault();
    onFiles(files);
  }

  return { dragging, listeners: { dragenter: onDragEnter, dragover: onDragOver, dragleave: onDragLeave, drop: onDrop, paste: onPaste } };
}
