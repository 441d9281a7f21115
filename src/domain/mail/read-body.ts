import { HTML_LIMIT, TEXT_LIMIT, htmlTextSteps } from './html-text.js';
import { newPartSteps, tidySteps } from './reply-text.js';
import { runInSlices, type Steps } from './slices.js';

/** An email body as Microsoft Graph gives it (`message.body`: contentType and content). */
export interface MailBody {
  type: 'html' | 'text';
  content: string;
}

export interface ReadBody {
  /** The whole body as text (history included), for search, forwards and evidence. */
  text: string;
  /** What the writer added: no quoted history, no signature. */
  newPart: string;
  /** True when the body was longer than HTML_LIMIT / TEXT_LIMIT and only its start was read. */
  truncated: boolean;
}

function* readSteps(body: MailBody): Steps<ReadBody> {
  let text: string;
  let truncated: boolean;
  if (body.type === 'html') {
    ({ text, truncated } = yield* htmlTextSteps(body.content));
  } else {
    truncated = body.content.length > TEXT_LIMIT;
    text = yield* tidySteps(truncated ? body.content.slice(0, TEXT_LIMIT) : body.content);
  }
  const newPart = yield* newPartSteps(text);
  return { text, newPart, truncated };
}

/**
 * Reads an email body without holding the event loop: the work runs in slices of a few
 * milliseconds with a yield between them, so chat turns keep flowing while a 5 MB body is read.
 * HTML past HTML_LIMIT characters and text past TEXT_LIMIT are not read (`truncated` says so);
 * the caller keeps the original body untouched. Never throws on content: any string is a body.
 */
export function readBody(body: MailBody, options: { sliceMs?: number } = {}): Promise<ReadBody> {
  return runInSlices(readSteps(body), options.sliceMs);
}

export { HTML_LIMIT, TEXT_LIMIT };
