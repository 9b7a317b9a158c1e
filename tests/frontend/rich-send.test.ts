// Sending files: chosen, pasted or dropped into a window, shown before sending, uploaded with
// progress (cancel, retry, nothing lost), then sent as a message that refers to the upload.
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatWireMessage } from '@shared/events';
import { FriendChatDock, useFriendChat } from 'friend-chat/vue';
import type { VueWrapper } from '@vue/test-utils';
import type { Emitted } from './helpers/fakeSocket';
import { useChatStore } from '@/friend-chat/stores/chat';
import { installFakeUpload } from './helpers/fakeUpload';
import { alice, bob, endSession, flush, group, listEntry, startSession, wire } from './helpers/session';

afterEach(endSession);

const png = (name = 'screenshot.png', bytes = 2048) => new File([new Uint8Array(bytes)], name, { type: 'image/png' });
const pdf = (name = 'report.pdf', bytes = 3000) => new File([new Uint8Array(bytes)], name, { type: 'application/pdf' });

/** Sets the files of the window's hidden file input and fires its change event. */
async function pick(wrapper: VueWrapper, files: File[]) {
  const input = wrapper.get<HTMLInputElement>('[data-testid="chat-file-input"]');
  Object.defineProperty(input.element, 'files', { value: files, configurable: true });
  await input.trigger('change');
  await flush();
}

async function chatWithBob() {
  const s = await startSession();
  s.socket.serverConnect();
  const uploads = installFakeUpload();
  const wrapper = s.mountInApp(FriendChatDock);
  useFriendChat().open(bob);
  await flush();
  const bubbles = () => wrapper.findAll('[data-testid="message-bubble"]');
  const input = () => wrapper.get<HTMLTextAreaElement>('[data-testid="chat-input"]');
  /** What the server stores for a send: the upload's kind and attachment. */
  const stored = (e: Emitted<'chat:send'>, attachment: unknown): ChatWireMessage =>
    ({ ...wire(alice, bob, e.payload.content, { clientId: e.payload.clientId }), kind: 'image', attachment, location: null }) as ChatWireMessage;
  return { ...s, ...uploads, wrapper, bubbles, input, stored };
}

describe('sending files', () => {
  it('previews a picked image, uploads it with progress on send, then sends the upload with the caption', async () => {
    const { wrapper, sent, socket, bubbles, input, stored } = await chatWithBob();
    await pick(wrapper, [png()]);
    const staged = wrapper.findAll('[data-testid="chat-staged-item"]');
    expect(staged).toHaveLength(1);
    expect(staged[0]!.text()).toContain('screenshot.png');
    expect(staged[0]!.text()).toContain('2.0 KB');
    expect(sent).toHaveLength(0); // nothing leaves before Send

    await input().setValue('The view from here');
    await wrapper.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    expect(wrapper.find('[data-testid="chat-staged-item"]').exists()).toBe(false);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toMatch(/\/api\/uploads$/);
    expect(sent[0]!.headers.Authorization).toBe('Bearer token-alice');
    expect(sent[0]!.file.name).toBe('screenshot.png');
    expect(bubbles()[0]!.attributes('data-status')).toBe('sending');
    expect(bubbles()[0]!.find('[data-testid="message-image"]').exists()).toBe(true);
    expect(bubbles()[0]!.text()).toContain('The view from here');

    sent[0]!.progress(1024, 2048);
    await flush();
    expect(wrapper.get('[data-testid="upload-progress"]').attributes('aria-valuenow')).toBe('50');
    expect(socket.emitsOf('chat:send')).toHaveLength(0); // the message waits for its upload

    const attachment = sent[0]!.stored();
    await flush();
    expect(wrapper.find('[data-testid="upload-progress"]').exists()).toBe(false);
    const [send] = socket.emitsOf('chat:send');
    expect(send!.payload).toMatchObject({ to: bob.id, content: 'The view from here', attachmentId: attachment.id });

    send!.ack!({ ok: true, message: stored(send!, attachment) });
    await flush();
    expect(bubbles()).toHaveLength(1);
    expect(bubbles()[0]!.attributes('data-status')).toBe('sent');
    expect(bubbles()[0]!.get('[data-testid="message-image"] img').attributes('src')).toContain(attachment.thumbnailUrl);
  });

  it('sends each of several files as its own message, the caption with the first, uploading one at a time in order', async () => {
    const { wrapper, sent, input, socket } = await chatWithBob();
    await pick(wrapper, [png('a.png'), pdf('b.pdf')]);
    await input().setValue('two things');
    await input().trigger('keydown', { key: 'Enter' });
    await flush();
    expect(sent.map((x) => x.file.name)).toEqual(['a.png']);
    // The second waits its turn, and can be cancelled while it waits.
    expect(wrapper.findAll('[data-testid="upload-progress"]')).toHaveLength(2);
    const a = sent[0]!.stored();
    await flush();
    expect(sent.map((x) => x.file.name)).toEqual(['a.png', 'b.pdf']);
    const b = sent[1]!.stored();
    await flush();
    expect(socket.emitsOf('chat:send').map((e) => e.payload)).toEqual([
      expect.objectContaining({ attachmentId: a.id, content: 'two things' }),
      expect.objectContaining({ attachmentId: b.id, content: '' }),
    ]);
    const bubbles = wrapper.findAll('[data-testid="message-bubble"]');
    expect(bubbles[0]!.text()).toContain('two things');
    expect(bubbles[1]!.find('[data-testid="message-file"]').text()).toContain('b.pdf');
    expect(bubbles[1]!.text()).not.toContain('two things');
  });

  it('takes a file out of the preview before sending', async () => {
    const { wrapper, sent } = await chatWithBob();
    await pick(wrapper, [png('keep.png'), pdf('drop.pdf')]);
    await wrapper.findAll('[data-testid="chat-staged-remove"]')[1]!.trigger('click');
    await wrapper.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    expect(sent.map((x) => x.file.name)).toEqual(['keep.png']);
  });

  it('a failed upload keeps the file: retry uploads it again and sends it', async () => {
    const { wrapper, sent, socket, bubbles } = await chatWithBob();
    await pick(wrapper, [pdf()]);
    await wrapper.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    sent[0]!.networkError();
    await flush();
    expect(bubbles()[0]!.attributes('data-status')).toBe('failed');
    expect(bubbles()[0]!.text()).toContain('report.pdf');
    expect(wrapper.text()).toContain('Network error.');
    expect(socket.emitsOf('chat:send')).toHaveLength(0);

    await wrapper.get('[data-testid="message-retry"]').trigger('click');
    await flush();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.file.name).toBe('report.pdf');
    expect(sent[1]!.file.size).toBe(3000);
    const attachment = sent[1]!.stored();
    await flush();
    expect(socket.emitsOf('chat:send')[0]!.payload).toMatchObject({ attachmentId: attachment.id, content: '' });
  });

  it('cancel stops the upload; the file waits to be retried or removed', async () => {
    const { wrapper, sent, socket, bubbles } = await chatWithBob();
    await pick(wrapper, [pdf()]);
    await wrapper.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    await wrapper.get('[data-testid="upload-cancel"]').trigger('click');
    await flush();
    expect(sent[0]!.aborted).toBe(true);
    expect(bubbles()[0]!.attributes('data-status')).toBe('failed');
    expect(wrapper.text()).toContain('Upload cancelled.');

    await wrapper.get('[data-testid="message-discard"]').trigger('click');
    await flush();
    expect(bubbles()).toHaveLength(0);
    expect(socket.emitsOf('chat:send')).toHaveLength(0);
    expect(localStorage.getItem(`friend-chat:${alice.id}:outbox`)).toBeNull();
  });

  it('a file cancelled while it waits for its turn is never uploaded', async () => {
    const { wrapper, sent, bubbles } = await chatWithBob();
    await pick(wrapper, [pdf('first.pdf'), pdf('second.pdf')]);
    await wrapper.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    await bubbles()[1]!.get('[data-testid="upload-cancel"]').trigger('click');
    await flush();
    expect(bubbles()[1]!.attributes('data-status')).toBe('failed');
    sent[0]!.stored();
    await flush();
    expect(sent.map((x) => x.file.name)).toEqual(['first.pdf']);
  });

  it('a send that fails after the upload is retried with the same upload, not uploaded again', async () => {
    const { wrapper, sent, socket, bubbles } = await chatWithBob();
    await pick(wrapper, [png()]);
    await wrapper.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    const attachment = sent[0]!.stored();
    await flush();
    socket.emitsOf('chat:send')[0]!.ack!({ ok: false, error: { code: 'RATE_LIMITED', message: 'slow down' } });
    await flush();
    expect(bubbles()[0]!.attributes('data-status')).toBe('failed');

    await wrapper.get('[data-testid="message-retry"]').trigger('click');
    await flush();
    expect(sent).toHaveLength(1);
    const sends = socket.emitsOf('chat:send');
    expect(sends).toHaveLength(2);
    expect(sends[1]!.payload).toEqual(sends[0]!.payload);
    expect(sends[1]!.payload).toMatchObject({ attachmentId: attachment.id });
  });

  it('an upload the server no longer has (unsent for a day) is uploaded again on retry', async () => {
    const { wrapper, sent, socket } = await chatWithBob();
    await pick(wrapper, [pdf()]);
    await wrapper.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    const first = sent[0]!.stored();
    await flush();
    socket.emitsOf('chat:send')[0]!.ack!({ ok: false, error: { code: 'NOT_FOUND', message: 'No such upload' } });
    await flush();

    await wrapper.get('[data-testid="message-retry"]').trigger('click');
    await flush();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.file.name).toBe('report.pdf');
    const second = sent[1]!.stored();
    await flush();
    expect(socket.emitsOf('chat:send').map((e) => e.payload.attachmentId)).toEqual([first.id, second.id]);
  });

  it('learns the size limit from a 413’s `limit` and refuses larger files before uploading them', async () => {
    const { wrapper, sent, bubbles } = await chatWithBob();
    await pick(wrapper, [pdf('big.pdf', 5000)]);
    await wrapper.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    sent[0]!.fail(413, 'TOO_LARGE', 'Files may be at most 4096 bytes', { limit: { maxBytes: 4096 } });
    await flush();
    expect(bubbles()[0]!.attributes('data-status')).toBe('failed');
    expect(bubbles()[0]!.element.parentElement!.textContent).toContain('Too large: files may be at most 4.0 KB.');
    // Trying again cannot help; removing can.
    expect(wrapper.find('[data-testid="message-retry"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="message-discard"]').exists()).toBe(true);

    await pick(wrapper, [pdf('bigger.pdf', 8192), pdf('small.pdf', 100)]);
    expect(wrapper.get('[data-testid="chat-attach-error"]').text()).toBe('“bigger.pdf” is 8.0 KB; files may be at most 4.0 KB.');
    expect(wrapper.findAll('[data-testid="chat-staged-item"]').map((w) => w.text())).toEqual([expect.stringContaining('small.pdf')]);
    expect(sent).toHaveLength(1);
  });

  it('refuses an empty file with a clear error', async () => {
    const { wrapper } = await chatWithBob();
    await pick(wrapper, [new File([], 'empty.txt', { type: 'text/plain' })]);
    expect(wrapper.get('[data-testid="chat-attach-error"]').text()).toBe('“empty.txt” is empty.');
    expect(wrapper.find('[data-testid="chat-staged"]').exists()).toBe(false);
  });
});

describe('paste and drop', () => {
  it('a pasted image goes to the preview; a text paste is left alone', async () => {
    const { wrapper } = await chatWithBob();
    const paste = (files: File[]) => {
      const e = new Event('paste', { bubbles: true, cancelable: true }) as ClipboardEvent;
      Object.defineProperty(e, 'clipboardData', { value: { files, types: files.length ? ['Files'] : ['text/plain'] } });
      wrapper.get('[data-testid="chat-input"]').element.dispatchEvent(e);
      return e;
    };
    expect(paste([]).defaultPrevented).toBe(false);
    await flush();
    expect(wrapper.find('[data-testid="chat-staged"]').exists()).toBe(false);

    expect(paste([png('clipboard.png')]).defaultPrevented).toBe(true);
    await flush();
    expect(wrapper.get('[data-testid="chat-staged-item"]').text()).toContain('clipboard.png');
  });

  it('files dropped on a group window go to its preview, with a drop zone shown while dragging', async () => {
    const team = group(1, 'Team');
    const s = await startSession({
      'GET /api/groups': () => ({ groups: [listEntry(team)] }),
      'GET /api/groups/:groupId': () => ({ group: team, members: [] }),
      'GET /api/groups/:groupId/messages': () => ({ messages: [], nextCursor: null }),
    });
    s.socket.serverConnect();
    const { sent } = installFakeUpload();
    const wrapper = s.mountInApp(FriendChatDock);
    useChatStore().openGroup(team);
    await flush();
    const win = wrapper.get(`[data-testid="chat-window"][data-group-id="${team.id}"]`);
    const drag = (type: string, files: File[] = []) => {
      const e = new Event(type, { bubbles: true, cancelable: true }) as DragEvent;
      Object.defineProperty(e, 'dataTransfer', { value: { types: ['Files'], files, dropEffect: 'none' } });
      win.element.dispatchEvent(e);
    };
    drag('dragenter');
    await flush();
    expect(win.find('[data-testid="chat-drop-zone"]').exists()).toBe(true);
    drag('drop', [pdf('plan.pdf')]);
    await flush();
    expect(win.find('[data-testid="chat-drop-zone"]').exists()).toBe(false);
    expect(win.get('[data-testid="chat-staged-item"]').text()).toContain('plan.pdf');

    await win.get('[data-testid="chat-send"]').trigger('click');
    await flush();
    const attachment = sent[0]!.stored();
    await flush();
    expect(s.socket.emitsOf('chat:send')[0]!.payload).toMatchObject({ groupId: team.id, attachmentId: attachment.id, content: '' });
  });
});
