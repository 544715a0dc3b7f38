/**
 * What a recording reader met that was not a good record: each problem is
 * counted by kind and located (file, byte offset), never thrown. The first
 * `keep` problems are kept in full for the report; the counts cover all.
 *
 * @example
 * ```ts
 * import { ReadIssues } from "./read_issues.ts";
 * const issues = new ReadIssues();
 * issues.add("bad-line", "a.txt", 120, "not <time> <message>");
 * issues.counts["bad-line"]; // 1
 * issues.list[0].offset; // 120
 * ```
 * @module
 */

/** The kinds of problem a reader counts. */
export const READ_ISSUE_KINDS = [
  /** A block whose bytes do not decompress, or decompress to something other than whole lines. */
  "corrupt-block",
  /** A block cut off by the end of the file (a crash while writing, or a copy cut short). */
  "truncated-block",
  /** A `.dwrec.zst` without its `.dwrec.idx`: read by scanning frames. */
  "missing-index",
  /** An index that does not match its data file (unusable entries are scanned instead). */
  "bad-index",
  /** A line that is not `<ISO time> <message>`. */
  "bad-line",
  /** A receive time earlier than the record before it (the record is still delivered). */
  "out-of-order",
  /** A file that could not be opened or read (gone since the listing, permissions, I/O error). */
  "unreadable-file",
] as const;

/** A kind of reading problem. */
export type ReadIssueKind = typeof READ_ISSUE_KINDS[number];

/** One located problem. */
export interface ReadIssue {
  kind: ReadIssueKind;
  /** The file it was found in. */
  file: string;
  /**
   * Byte offset in the file: of the block for recordings (zstd frame start),
   * of the line for plain text, of the line in the decompressed text for
   * `.gz` / plain `.zst` files.
   */
  offset: number;
  /** For a line inside a recording's block: its offset in the block's text. */
  lineOffset?: number;
  /** What was wrong and what was expected. */
  message: string;
}

/**
 * Counts and the first problems of one reader.
 *
 * @example
 * ```ts
 * import { ReadIssues } from "./read_issues.ts";
 * const seen: string[] = [];
 * const issues = new ReadIssues(1, (i) => seen.push(i.kind));
 * issues.add("missing-index", "a.dwrec.zst", 0, "scanning");
 * issues.add("bad-line", "a.dwrec.zst", 512, "not a record", 40);
 * [issues.total, issues.list.length, seen.length]; // [2, 1, 2]
 * ```
 */
export class ReadIssues {
  /** Problems by kind. */
  readonly counts: Record<ReadIssueKind, number> = {
    "corrupt-block": 0,
    "truncated-block": 0,
    "missing-index": 0,
    "bad-index": 0,
    "bad-line": 0,
    "out-of-order": 0,
    "unreadable-file": 0,
  };
  /** The first `keep` problems. */
  readonly list: ReadIssue[] = [];
  readonly #keep: number;
  readonly #onIssue?: (issue: ReadIssue) => void;

  /** `keep`: problems kept in `list` (default 100); `onIssue`: called for every problem (e.g. to log). */
  constructor(keep = 100, onIssue?: (issue: ReadIssue) => void) {
    this.#keep = keep;
    this.#onIssue = onIssue;
  }

  /** Total problems of every kind. */
  get total(): number {
    let n = 0;
    for (const k of READ_ISSUE_KINDS) n += this.counts[k];
    return n;
  }

  /** Counts one problem. */
  add(
    kind: ReadIssueKind,
    file: string,
    offset: number,
    message: string,
    lineOffset?: number,
  ): void {
    this.counts[kind]++;
    const issue: ReadIssue = lineOffset === undefined
      ? { kind, file, offset, message }
      : { kind, file, offset, lineOffset, message };
    if (this.list.length < this.#keep) this.list.push(issue);
    this.#onIssue?.(issue);
  }
}
