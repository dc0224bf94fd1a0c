package dev.mover.scoring;

/** Which transport solver produces {@link OtResult#distance()}. */
public enum Solver {
    /** Exact earth mover's distance by the network simplex method ({@link NetworkSimplex}). */
    EMD,
    /** Entropic regularisation solved by log-domain Sinkhorn iterations ({@link Sinkhorn}). */
    SINKHORN
}
