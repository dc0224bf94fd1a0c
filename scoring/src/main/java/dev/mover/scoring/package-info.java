/**
 * Optimal-transport scoring of token-vector sequences: Word Mover's Distance (WMD) and Word Rotator's Distance (WRD).
 *
 * <p>Entry point: {@link dev.mover.scoring.OtScorer} (configure, {@code prepareQuery}, then {@code score},
 * {@code lowerBound}, {@code wcd} or {@code maxSim} per document). Inputs are {@link dev.mover.scoring.TokenMatrix}
 * (float storage from the index, or double for reference data). Results are {@link dev.mover.scoring.OtResult} with
 * {@link dev.mover.scoring.Alignment}s.
 *
 * <p>Lower-level public pieces, for benchmarks and checkers: {@link dev.mover.scoring.NetworkSimplex} (exact
 * transportation problem), {@link dev.mover.scoring.Sinkhorn} (entropic), {@link dev.mover.scoring.CostMatrix}
 * (dense kernels) and {@link dev.mover.scoring.LowerBounds} (RWMD from a cost matrix).
 *
 * <p>Sub-packages: {@code dev.mover.scoring.codec} (the stored token-vector format) and {@code dev.mover.scoring.lucene}
 * (a plain-Lucene rescorer over that format).
 *
 * <p>Numerical path: every caller (the plugin's rescorer, the eval CLI, {@code ot-check}, {@code ot-bench}) uses the
 * same double-precision path: masses normalised in double, Euclidean costs from differences and cosine costs from
 * normalised dot products. The cost matrix runs on the Panama Vector API ({@code jdk.incubator.vector}) when the JVM
 * was started with {@code --add-modules jdk.incubator.vector}, else on scalar code with identical formulas (the two
 * agree to a few ulps and each is deterministic). There is no float-precision fast path.
 */
package dev.mover.scoring;
