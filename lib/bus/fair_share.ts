/**
 * How many partitions a node aims to hold when several share P partitions
 * (docs/design.md §10): the lowest common level L such that
 * `Σ min(capacity_i, L) ≥ P` (water-filling), and each node aims at
 * `min(own capacity, L)`. With equal capacities of at least ⌈P/n⌉ that is
 * ⌈P/n⌉ each; a node with a small capacity takes what it can and the others
 * cover the rest, so the targets add up to P whenever the capacities do.
 *
 * @example
 * ```ts
 * import { fairShare } from "./fair_share.ts";
 *
 * fairShare(8, [8, 8], 8); // 4
 * fairShare(8, [8, 1], 8); // 7: the node of capacity 1 takes 1
 * fairShare(8, [8], 8); // 8: alone, a node takes everything
 * ```
 * @module
 */

/**
 * The target of a node of capacity `own` among live nodes of `capacities`
 * (its own included) sharing `partitions`.
 *
 * @param partitions P (≥ 0).
 * @param capacities The capacity of every live node, this one's included (an empty list counts as alone).
 * @param own This node's capacity.
 *
 * @example
 * ```ts
 * import { fairShare } from "./fair_share.ts";
 *
 * fairShare(10, [4, 4, 4], 4); // 4
 * fairShare(10, [2, 2], 2); // 2 (the capacities do not cover P)
 * ```
 */
export function fairShare(partitions: number, capacities: readonly number[], own: number): number {
  const caps = capacities.length > 0 ? capacities : [own];
  let level = Math.ceil(partitions / caps.length);
  while (level < partitions) {
    let covered = 0;
    for (const cap of caps) covered += Math.min(cap, level);
    if (covered >= partitions) break;
    level++;
  }
  return Math.min(own, level);
}
