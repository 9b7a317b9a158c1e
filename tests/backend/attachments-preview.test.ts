// One line for a message (conversations lists, desktop and push notifications): messagePreview,
// exported by friend-chat/server for hosts and usable by clients (it has no runtime imports).
import { describe, expect, it } from 'vitest';
import { formatDuration, messagePreview } from '../../backend/src/server.ts';
import type { WireAttachment } from '../../backend/src/realtime/events.ts';

const attachment = (extra: Partial<WireAttachment>): WireAttachment => ({
  id: '00000000-0000-4000-8000-000000000001',
  kind: 'file',
  name: 'report.pdf',
  mime: 'application/pdf',
  size: 1,
  url: '/api/attachments/x',
  ...extra,
});

describe('messagePreview', () => {
  it('names what a message carries, with its caption', () => {
    expect(messagePreview({ kind: 'image', content: '', attachment: attachment({ kind: 'image' }) })).toBe('[Image]');
    expect(messagePreview({ kind: 'image', content: ' Look! ', attachment: attachment({ kind: 'image' }) })).toBe('[Image] Look!');
    expect(messagePreview({ kind: 'voice', content: '', attachment: attachment({ kind: 'voice', durationMs: 12_400 }) })).toBe('[Voice 0:12]');
    expect(messagePreview({ kind: 'file', content: '', attachment: attachment({}) })).toBe('[File] report.pdf');
    expect(messagePreview({ kind: 'location', content: '', location: { lat: 1, lng: 2, label: 'Eiffel Tower' } })).toBe('[Location] Eiffel Tower');
    expect(messagePreview({ kind: 'location', content: 'here', location: { lat: 1, lng: 2 } })).toBe('[Location] here');
    // A recalled upload (attachment gone): still the kind.
    expect(messagePreview({ kind: 'file', content: '', attachment: null })).toBe('[File]');
  });

  it('is the text of a text message, and of a message from before rich messages', () => {
    expect(messagePreview({ kind: 'text', content: 'hello' })).toBe('hello');
    expect(messagePreview({ content: 'old' })).toBe('old');
  });

  it('formats durations as m:ss', () => {
    expect([formatDuration(0), formatDuration(12_400), formatDuration(65_000), formatDuration(300_000)]).toEqual(['0:00', '0:12', '1:05', '5:00']);
  });
});
