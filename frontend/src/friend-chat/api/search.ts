// GET /api/messages/search (docs/protocol.md): the caller's direct and group messages matching `q`.
import type { MessageKind } from '../wire';
import type { ThreadWireMessage } from '../utils/messageKinds';
import { get } from './http';

/** `[start, end)` of a match in `message.content`, in UTF-16 code units (JavaScript string indexes). */
export type Highlight = [number, number];

export interface SearchResult {
  message: ThreadWireMessage;
  highlights: Highlight[];
}

export interface SearchParams {
  q: string;
  peerId?: string;
  groupId?: string;
  kind?: MessageKind;
  before?: string | null;
  limit?: number;
}

export const searchApi = {
  search: (p: SearchParams) => get<{ results: SearchResult[]; nextCursor: string | null }>('/messages/search', { ...p }),
};
