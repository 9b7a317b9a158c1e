// Records a voice message with the browser's MediaRecorder: start asks for the microphone (so
// only ever from a click), stop hands over the recording as a file, cancel throws it away. The
// microphone is released as soon as recording ends, and when the component goes.
import { onBeforeUnmount, ref } from 'vue';

/** The server refuses voice messages longer than this (DESIGN.md: 5 minutes); recording stops there. */
export const MAX_VOICE_MS = 5 * 60 * 1000;

const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4', 'audio/webm'];
const EXTENSIONS: Record<string, string> = { 'audio/webm': 'webm', 'audio/ogg': 'ogg', 'audio/mp4': 'm4a' };

export class RecorderError extends Error {
  constructor(readonly code: 'noRecorder' | 'noMicrophone') {
    super(code);
  }
}

export interface Recording {
  file: File;
  durationMs: number;
}

export function useVoiceRecorder(onLimit: () => void) {
  const recording = ref(false);
  const elapsedMs = ref(0);
  let recorder: MediaRecorder | null = null;
  let stream: MediaStream | null = null;
  let chunks: Blob[] = [];
  let startedAt = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  // Bumped by cancel: a start still waiting for the microphone then lets it go again.
  let attempt = 0;

  async function start(): Promise<void> {
    if (recording.value) return;
    if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) throw new RecorderError('noRecorder');
    const mine = ++attempt;
    let got: MediaStream;
    try {
      got = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      throw new RecorderError('noMicrophone');
    }
    if (mine !== attempt) {
      for (const track of got.getTracks()) track.stop();
      return;
    }
    stream = got;
    const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    chunks = [];
    recorder.ondataavailable = (e) => e.data.size > 0 && chunks.push(e.data);
    recorder.start(250);
    startedAt = Date.now();
    elapsedMs.value = 0;
    recording.value = true;
    timer = setInterval(() => {
      elapsedMs.value = Date.now() - startedAt;
      if (elapsedMs.value >= MAX_VOICE_MS) onLimit();
    }, 200);
  }

  function finish(): void {
    clearInterval(timer);
    for (const track of stream?.getTracks() ?? []) track.stop();
    stream = null;
    recording.value = false;
  }

  /** The recording so far as a file (null if nothing was recorded). */
  function stop(): Promise<Recording | null> {
    const r = recorder;
    recorder = null;
    if (!r || r.state === 'inactive') {
      finish();
      return Promise.resolve(null);
    }
    const durationMs = Math.min(Date.now() - startedAt, MAX_VOICE_MS);
    return new Promise((resolve) => {
      r.onstop = () => {
        const type = (r.mimeType || chunks[0]?.type || 'audio/webm').split(';')[0]!;
        const blob = new Blob(chunks, { type });
        chunks = [];
        if (!blob.size) return resolve(null);
        const stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '');
        resolve({ file: new File([blob], `voice-${stamp}.${EXTENSIONS[type] ?? 'webm'}`, { type }), durationMs });
      };
      r.stop();
      finish();
    });
  }

  function cancel(): void {
    attempt++;
    const r = recorder;
    recorder = null;
    chunks = [];
    if (r && r.state !== 'inactive') {
      r.ondataavailable = null;
      r.stop();
    }
    finish();
  }

  onBeforeUnmount(cancel);

  return { recording, elapsedMs, start, stop, cancel };
}
