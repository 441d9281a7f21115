/**
 * Which content type the desk serves a file with, given what the sender declared and what its first
 * bytes show (file-type's signatures; null when they show nothing known, as with plain text). A
 * declared type is believed unless it claims something people open without a second thought (an
 * image, a PDF, text, audio or video) while the bytes say otherwise: a "screenshot.png" that is a
 * Windows executable is served as the executable, always as a download. Types a browser would run
 * (HTML, SVG, JavaScript, XML) are never served inline, wherever the file is served from.
 */

export interface ServedType {
  /** The type recorded as the attachment's and sent with the download. */
  contentType: string;
  /** The bytes contradict the declared type. */
  mismatch: boolean;
}

const TRUSTED_FAMILIES = /^(image|audio|video|text)\/|^application\/pdf$/;

export function servedType(declared: string, sniffed: string | null): ServedType {
  if (!TRUSTED_FAMILIES.test(declared)) return { contentType: declared, mismatch: false };
  if (sniffed === null) {
    // Text has no signature; everything else in the trusted families has one file-type knows.
    return declared.startsWith('text/') ? { contentType: declared, mismatch: false } : { contentType: 'application/octet-stream', mismatch: true };
  }
  if (sniffed === declared) return { contentType: declared, mismatch: false };
  // Same kind of thing (a JPEG named .png): serve what it is, no alarm.
  if (family(sniffed) === family(declared) && family(declared) !== 'text' && family(declared) !== 'application') return { contentType: sniffed, mismatch: false };
  return { contentType: sniffed, mismatch: true };
}

/** Types a browser executes or renders as a document with scripts: never given to one inline, from our origin or a store's. */
export function isActiveContent(contentType: string): boolean {
  return /^(text\/html|application\/xhtml\+xml|image\/svg\+xml|text\/javascript|application\/(x-)?javascript|application\/ecmascript|text\/xml|application\/xml|text\/xsl)$/.test(contentType);
}

function family(type: string): string {
  return type.split('/')[0]!;
}

/**
 * `attachment` with the name twice: plain ASCII for old clients, and RFC 8187's UTF-8 form for the
 * rest (RFC 6266 section 4.3: https://www.rfc-editor.org/rfc/rfc6266#section-4.3). Quotes, backslashes
 * and control characters never reach the header.
 */
export function contentDisposition(name: string): string {
  const ascii = name.normalize('NFKD').replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_') || 'file';
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
