/**
 * Island: the symbol search box (an ARIA combobox) that opens a symbol's
 * detail page, `/s/{SYMBOL}`.
 *
 * Keyboard: `/` anywhere on the page focuses it (unless the focus is already
 * in a text field); typing filters (prefix matches first, then substrings;
 * at most 12 shown, see `lib/client/symbol_match.ts`); ArrowDown/ArrowUp move
 * the highlight (Home/End jump); Enter opens the highlighted symbol (or the
 * first match); Escape closes the list, a second Escape clears and leaves
 * the box. Each option is a link, so a click (or middle-click) works too.
 *
 * @module
 */
import { useEffect, useId, useMemo, useRef, useState } from "preact/hooks";
import { detailPath } from "../lib/client/detail_symbol.ts";
import { DEFAULT_MATCH_LIMIT, matchSymbols } from "../lib/client/symbol_match.ts";

/**
 * Props of {@linkcode SymbolSearch}.
 *
 * @example
 * ```ts
 * import type { SymbolSearchProps } from "./SymbolSearch.tsx";
 * const props: SymbolSearchProps = { symbols: ["BTCUSDT", "ETHUSDT"], current: "BTCUSDT" };
 * ```
 */
export interface SymbolSearchProps {
  /** Every served symbol, upper-case. */
  symbols: string[];
  /** The symbol the page shows, marked in the list. Default: none. */
  current?: string;
  /** Most matches listed. Default 12. */
  limit?: number;
}

/** True when a key press belongs to a text field (so `/` must type, not jump). */
function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

/**
 * The search box.
 *
 * @example
 * ```tsx
 * import SymbolSearch from "./SymbolSearch.tsx";
 * const island = <SymbolSearch symbols={["BTCUSDT", "ETHUSDT"]} current="ETHUSDT" />;
 * ```
 */
export default function SymbolSearch(
  { symbols, current, limit = DEFAULT_MATCH_LIMIT }: SymbolSearchProps,
) {
  const id = useId();
  const listId = `${id}-list`;
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const matches = useMemo(() => matchSymbols(symbols, query, { limit }), [symbols, query, limit]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey || typingIn(e.target)) return;
      e.preventDefault();
      input.current?.focus();
      input.current?.select();
      setOpen(true);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  const go = (symbol: string | undefined) => {
    if (symbol === undefined) return;
    setOpen(false);
    globalThis.location.assign(detailPath(symbol));
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const n = matches.length;
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        if (!open) setOpen(true);
        else if (n > 0) setActive((active + 1) % n);
        break;
      case "ArrowUp":
        e.preventDefault();
        if (!open) setOpen(true);
        else if (n > 0) setActive((active - 1 + n) % n);
        break;
      case "Home":
      case "End":
        if (!open || n === 0) break;
        e.preventDefault();
        setActive(e.key === "Home" ? 0 : n - 1);
        break;
      case "Enter":
        e.preventDefault();
        go(matches[Math.min(active, n - 1)]);
        break;
      case "Escape":
        e.preventDefault();
        if (open) setOpen(false);
        else {
          setQuery("");
          input.current?.blur();
        }
        break;
    }
  };

  const shown = open && matches.length > 0;
  const activeId = shown ? `${id}-opt-${Math.min(active, matches.length - 1)}` : undefined;
  return (
    <div class="symsearch" data-open={shown ? "1" : "0"}>
      <input
        ref={input}
        type="search"
        class="symsearch-input"
        role="combobox"
        aria-label="Search symbols"
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={listId}
        aria-activedescendant={activeId}
        autocomplete="off"
        spellcheck={false}
        placeholder={`Search ${symbols.length} symbols  ( / )`}
        value={query}
        onInput={(e) => {
          setQuery((e.currentTarget as HTMLInputElement).value);
          setActive(0);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() => setOpen(false)}
        onKeyDown={onKeyDown}
      />
      <ul id={listId} role="listbox" class="symsearch-list" hidden={!shown} aria-label="symbols">
        {matches.map((s, i) => (
          <li
            key={s}
            id={`${id}-opt-${i}`}
            role="option"
            aria-selected={i === active}
            class={`symsearch-opt${i === active ? " active" : ""}${
              s === current ? " current" : ""
            }`}
            data-symbol={s}
            // Keep the focus in the box, so the click is not lost to its blur.
            onMouseDown={(e) => e.preventDefault()}
          >
            <a href={detailPath(s)} tabIndex={-1}>{s}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}
