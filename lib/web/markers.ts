/**
 * Names shared by the server renderer and the browser boot script.
 *
 * @example
 * ```ts
 * import { DATA_BLOCK_ID } from "./markers.ts";
 * const selector = `#${DATA_BLOCK_ID}`;
 * ```
 *
 * @module
 */

/**
 * Element id of the `<script type="application/json">` islands data block.
 *
 * @example
 * ```ts
 * import { DATA_BLOCK_ID } from "./markers.ts";
 * const selector = `script#${DATA_BLOCK_ID}`;
 * ```
 */
export const DATA_BLOCK_ID = "__dw_islands";

/**
 * Tag name of the element wrapping each island; `data-dw` holds its index.
 *
 * @example
 * ```ts
 * import { ISLAND_TAG } from "./markers.ts";
 * const selector = `${ISLAND_TAG}[data-dw]`;
 * ```
 */
export const ISLAND_TAG = "dw-island";
