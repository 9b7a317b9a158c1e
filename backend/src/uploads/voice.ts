// Voice messages: how long a recording is, read from its bytes (DESIGN.md, "Rich messages": voice
// up to 5 minutes). Browsers record WebM/Opus (Chromium, Firefox), Ogg/Opus (Firefox) or MP4
// (Safari, Chromium), and their MediaRecorder writes these as a live stream would: a WebM
// Segment and Clusters of unknown size and no Duration, an MP4 of fragments whose header says
// nothing of their length. music-metadata 11 fails on the first (it cannot skip an element of
// unknown size) and reports only the first fragment of the second, so both containers are read
// here, from the timestamps of their frames; Ogg and MP3 go to music-metadata.
import { parseBuffer } from 'music-metadata';

export type VoiceContainer = 'webm' | 'mp4' | 'ogg' | 'mpeg';

export type AudioInfo =
  /** Audio only: a voice message of this length. */
  | { audio: true; durationMs: number }
  /** The container holds video (or no audio): not a voice message, a file. */
  | { audio: false };

/** Thrown when the bytes are not a readable recording. */
export class UnreadableAudioError extends Error {
  constructor(message = 'unreadable audio') {
    super(message);
    this.name = 'UnreadableAudioError';
  }
}

/**
 * The length of a recording. `stopAfterMs`: reading may stop once the recording is known to be
 * longer (it is refused anyway), so an oversized one costs no full scan.
 */
export async function readAudio(container: VoiceContainer, data: Buffer, stopAfterMs = Infinity): Promise<AudioInfo> {
  switch (container) {
    case 'webm':
      return readWebm(data, stopAfterMs);
    case 'mp4':
      return readMp4(data);
    default:
      return readWithMusicMetadata(container, data);
  }
}

async function readWithMusicMetadata(container: 'ogg' | 'mpeg', data: Buffer): Promise<AudioInfo> {
  let format;
  try {
    ({ format } = await parseBuffer(data, { mimeType: container === 'ogg' ? 'audio/ogg' : 'audio/mpeg', size: data.length }, { duration: true, skipCovers: true }));
  } catch (err) {
    throw new UnreadableAudioError(err instanceof Error ? err.message : String(err));
  }
  if (format.hasVideo) return { audio: false };
  const seconds = format.duration;
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) throw new UnreadableAudioError('no duration');
  return { audio: true, durationMs: Math.round(seconds * 1000) };
}

// --- WebM (Matroska) -------------------------------------------------------------------------

const EBML = {
  Header: 0x1a45dfa3,
  DocType: 0x4282,
  Segment: 0x18538067,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  Duration: 0x4489,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackType: 0x83,
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  BlockGroup: 0xa0,
  Block: 0xa1,
  SimpleBlock: 0xa3,
};
/** Master elements read through (their children follow inline); any other element is skipped. */
const DESCEND = new Set([EBML.Header, EBML.Segment, EBML.Info, EBML.Tracks, EBML.TrackEntry, EBML.Cluster, EBML.BlockGroup]);

/** An EBML variable-length integer at `pos`: its value (null = "unknown size") and length. */
function vint(buf: Buffer, pos: number, keepMarker: boolean): { value: number | null; length: number } | null {
  const first = buf[pos];
  if (first === undefined || first === 0) return null;
  const length = Math.clz32(first) - 23;
  if (length > 8 || pos + length > buf.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const b = buf[pos + i]!;
    value = value * 256 + b;
    if (b !== 0xff) allOnes = false;
  }
  return { value: !keepMarker && allOnes ? null : value, length };
}

function uint(buf: Buffer, start: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + buf[start + i]!;
  return v;
}

function readWebm(buf: Buffer, stopAfterMs: number): AudioInfo {
  let scale = 1_000_000; // ns per timecode unit (the default: milliseconds)
  let declared = 0; // Info/Duration, in timecode units, when the writer knew it
  let docType = '';
  let audio = false;
  let video = false;
  let cluster = 0;
  let last = -Infinity; // the latest frame's time
  let frame = 0; // the gap between the last two frame times: the last frame's length (≤ 200 ms)
  let pos = 0;
  while (pos < buf.length) {
    const id = vint(buf, pos, true);
    if (!id) break;
    const size = vint(buf, pos + id.length, false);
    if (!size) break;
    const start = pos + id.length + size.length;
    if (DESCEND.has(id.value!)) {
      pos = start;
      continue;
    }
    // Only masters are streamed with an unknown size; anything else is damaged.
    if (size.value === null) break;
    const end = start + size.value;
    switch (id.value) {
      case EBML.DocType:
        docType = buf.toString('latin1', start, Math.min(end, buf.length)).replace(/\0+$/, '');
        break;
      case EBML.TimecodeScale:
        if (end <= buf.length && size.value <= 8) scale = uint(buf, start, size.value) || scale;
        break;
      case EBML.Duration:
        if (end <= buf.length && size.value === 4) declared = buf.readFloatBE(start);
        else if (end <= buf.length && size.value === 8) declared = buf.readDoubleBE(start);
        break;
      case EBML.TrackType: {
        const type = end <= buf.length && size.value <= 8 ? uint(buf, start, size.value) : 0;
        if (type === 1) video = true;
        if (type === 2) audio = true;
        break;
      }
      case EBML.Timecode:
        if (end <= buf.length && size.value <= 8) cluster = uint(buf, start, size.value);
        break;
      case EBML.SimpleBlock:
      case EBML.Block: {
        // Track number (a vint), then the frame's time relative to its cluster (int16).
        const track = vint(buf, start, false);
        if (!track || start + track.length + 2 > buf.length) break;
        const t = cluster + buf.readInt16BE(start + track.length);
        if (t > last) {
          if (last !== -Infinity) frame = t - last;
          last = t;
        }
        break;
      }
    }
    if (video) return { audio: false };
    if (last !== -Infinity && (last * scale) / 1e6 > stopAfterMs) break;
    pos = end;
  }
  if (docType !== 'webm' && docType !== 'matroska') throw new UnreadableAudioError('not a WebM file');
  if (!audio) return { audio: false };
  // An audio frame lasts at most 120 ms (Opus), so a longer gap says nothing of the last one.
  const lastFrame = Math.min(frame, (200 * 1e6) / scale);
  const units = declared > 0 && Number.isFinite(declared) ? declared : last === -Infinity ? 0 : last + lastFrame;
  const durationMs = Math.round((units * scale) / 1e6);
  if (!(durationMs > 0)) throw new UnreadableAudioError('no audio frames');
  return { audio: true, durationMs };
}

// --- MP4 (ISO base media) --------------------------------------------------------------------

const MP4_CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'moof', 'traf', 'mvex', 'edts']);

interface Mp4Track {
  handler: string;
  timescale: number;
  duration: number;
  defaultSampleDuration: number;
  /** The end of the last fragment seen, in the track's timescale. */
  fragmentsEnd: number;
}

function readMp4(buf: Buffer): AudioInfo {
  const tracks = new Map<number, Mp4Track>();
  const track = (id: number) => {
    let t = tracks.get(id);
    if (!t) tracks.set(id, (t = { handler: '', timescale: 0, duration: 0, defaultSampleDuration: 0, fragmentsEnd: 0 }));
    return t;
  };
  let current: Mp4Track | null = null; // the trak being read
  let fragment: { track: Mp4Track; base: number; defaultDuration: number; sum: number } | null = null;
  let sawFtyp = false;

  const finishFragment = () => {
    if (fragment) fragment.track.fragmentsEnd = Math.max(fragment.track.fragmentsEnd, fragment.base + fragment.sum);
    fragment = null;
  };

  const walk = (from: number, to: number): void => {
    let pos = from;
    while (pos + 8 <= to) {
      let size = buf.readUInt32BE(pos);
      const type = buf.toString('latin1', pos + 4, pos + 8);
      let header = 8;
      if (size === 1) {
        if (pos + 16 > to) return;
        size = Number(buf.readBigUInt64BE(pos + 8));
        header = 16;
      } else if (size === 0) size = to - pos;
      if (size < header) return;
      const end = Math.min(pos + size, to);
      const p = pos + header; // payload
      const has = (n: number) => p + n <= end;
      if (type === 'ftyp') sawFtyp = true;
      if (MP4_CONTAINERS.has(type)) {
        if (type === 'trak') current = null;
        if (type === 'traf') finishFragment();
        walk(p, end);
        if (type === 'traf') finishFragment();
      } else if (type === 'tkhd' && has(24)) {
        const id = buf[p] === 1 ? buf.readUInt32BE(p + 20) : buf.readUInt32BE(p + 12);
        current = track(id);
      } else if (type === 'mdhd' && current && has(32)) {
        if (buf[p] === 1) {
          current.timescale = buf.readUInt32BE(p + 20);
          current.duration = Number(buf.readBigUInt64BE(p + 24));
        } else {
          current.timescale = buf.readUInt32BE(p + 12);
          current.duration = buf.readUInt32BE(p + 16);
        }
      } else if (type === 'hdlr' && current && has(12)) {
        current.handler = buf.toString('latin1', p + 8, p + 12);
      } else if (type === 'trex' && has(16)) {
        track(buf.readUInt32BE(p + 4)).defaultSampleDuration = buf.readUInt32BE(p + 12);
      } else if (type === 'tfhd' && has(8)) {
        const flags = buf.readUIntBE(p + 1, 3);
        const t = track(buf.readUInt32BE(p + 4));
        let o = p + 8;
        if (flags & 0x01) o += 8; // base data offset
        if (flags & 0x02) o += 4; // sample description index
        const defaultDuration = flags & 0x08 && o + 4 <= end ? buf.readUInt32BE(o) : t.defaultSampleDuration;
        fragment = { track: t, base: t.fragmentsEnd, defaultDuration, sum: 0 };
      } else if (type === 'tfdt' && fragment && has(8)) {
        fragment.base = buf[p] === 1 && has(12) ? Number(buf.readBigUInt64BE(p + 4)) : buf.readUInt32BE(p + 4);
      } else if (type === 'trun' && fragment && has(8)) {
        const flags = buf.readUIntBE(p + 1, 3);
        const count = buf.readUInt32BE(p + 4);
        let o = p + 8;
        if (flags & 0x01) o += 4; // data offset
        if (flags & 0x04) o += 4; // first sample flags
        if (!(flags & 0x100)) fragment.sum += count * fragment.defaultDuration;
        else {
          const stride = 4 * (1 + (flags & 0x200 ? 1 : 0) + (flags & 0x400 ? 1 : 0) + (flags & 0x800 ? 1 : 0));
          for (let i = 0; i < count && o + 4 <= end; i++, o += stride) fragment.sum += buf.readUInt32BE(o);
        }
      }
      pos += size;
    }
  };
  walk(0, buf.length);
  finishFragment();
  if (!sawFtyp) throw new UnreadableAudioError('not an MP4 file');
  const all = [...tracks.values()];
  if (all.some((t) => t.handler === 'vide')) return { audio: false };
  const sound = all.filter((t) => t.handler === 'soun' && t.timescale > 0);
  if (sound.length === 0) return { audio: false };
  const seconds = Math.max(...sound.map((t) => Math.max(t.duration, t.fragmentsEnd) / t.timescale));
  const durationMs = Math.round(seconds * 1000);
  if (!(durationMs > 0)) throw new UnreadableAudioError('no audio samples');
  return { audio: true, durationMs };
}
