// How the client batches its delivered acks (`chat:delivered`), apart from the store so that the
// load generator of bench/lifecycle.ts acknowledges exactly as the Vue client does.

/**
 * A batch of delivered acks goes this long after its first message arrived. A second: the
 * sender's "delivered" tick may lag by that much, and a receiver who gets a message every few
 * hundred ms sends one ack a second rather than one per message (each ack is a socket event and
 * a receipt pushed to the sender; bench/README.md, "Message lifecycle").
 */
export const DELIVERED_FLUSH_MS = 1000;
/** …or at once when it holds this many (a sync page brings up to 100). */
export const DELIVERED_BATCH_MAX = 100;
