import { LineCounter, parseDocument } from 'yaml';
import type { ZodType } from 'zod';

/**
 * Reading a YAML (or JSON) settings file so every problem names its line: the text parsed keeping
 * positions, then checked against a zod schema, each issue reported as `file:line:col: path: message`.
 * The SLA policy and the notification rules are read this way; `where(path)` locates any further
 * problem the caller finds in what the schema let through.
 */
export type LocatedFile<T> =
  | { ok: true; value: T; where: (path: ReadonlyArray<string | number>) => string }
  | { ok: false; problems: string[] };

export function readLocatedFile<T>(text: string, source: string, schema: ZodType<T, any, any>): LocatedFile<T> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return source;
    const { line, col } = lines.linePos(offset);
    return `${source}:${line}:${col}`;
  };
  if (doc.errors.length > 0) return { ok: false, problems: doc.errors.map((e) => `${at(e.pos[0])}: ${e.message.split('\n')[0]}`) };
  // The deepest node of `path` that exists in the text: a missing key is reported where its parent is.
  const where = (path: ReadonlyArray<string | number>) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return at(node.range[0]);
    }
    return source;
  };
  const parsed = schema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${where(issue.path)}: ${issue.path.join('.') || '(file)'}: ${issue.message === 'Required' ? 'is required' : issue.message}`),
    };
  }
  return { ok: true, value: parsed.data, where };
}
