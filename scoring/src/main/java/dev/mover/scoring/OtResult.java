package dev.mover.scoring;

import java.util.List;

/**
 * Result of scoring one query against one document.
 *
 * @param distance the transport value: the exact optimum for {@link Solver#EMD}, {@code <T_eps, C>} for
 *     {@link Solver#SINKHORN} (check {@link #converged()})
 * @param similarity a score where larger is better: {@code 1 - distance} for WRD (in [-1, 1]);
 *     {@code 1 / (1 + distance)} for WMD (in (0, 1], since WMD has the units of the vectors)
 * @param rwmd relaxed WMD lower bound, {@code max(rwmdQueryToDoc, rwmdDocToQuery)}
 * @param rwmdQueryToDoc {@code sum_i a_i min_j C_ij}
 * @param rwmdDocToQuery {@code sum_j b_j min_i C_ij}
 * @param wcd word centroid distance lower bound (the Jensen form for WRD)
 * @param costMax largest cost between tokens of positive mass
 * @param solver the solver that produced {@code distance}
 * @param iterations network simplex pivots, or Sinkhorn sweeps
 * @param converged always true for EMD; for Sinkhorn, whether the marginal tolerance was met before the cap
 * @param marginalViolation L1 column-marginal violation of the Sinkhorn plan; 0 for EMD
 * @param alignments the largest flows of the plan, largest first, at most as many as requested
 */
public record OtResult(
    double distance,
    double similarity,
    double rwmd,
    double rwmdQueryToDoc,
    double rwmdDocToQuery,
    double wcd,
    double costMax,
    Solver solver,
    long iterations,
    boolean converged,
    double marginalViolation,
    List<Alignment> alignments) {

    /** The better of the two lower bounds, {@code max(wcd, rwmd)}. */
    public double lowerBound() {
        return Math.max(wcd, rwmd);
    }
}
