package dev.mover.scoring;

/**
 * The optimal-transport distance to compute between two token sequences.
 */
public enum Metric {
    /**
     * Word Mover's Distance (Kusner et al. 2015): cost {@code C[i][j] = ||x_i - y_j||_2}, by default uniform masses
     * ({@link MassRule#UNIFORM}). The distance is in the units of the vectors; see {@link OtResult#similarity()}.
     */
    WMD,
    /**
     * Word Rotator's Distance (Yokoi et al. 2020): cost {@code C[i][j] = 1 - cos(x_i, y_j)} clamped to [0, 2], by
     * default masses proportional to the vector norms ({@link MassRule#NORM}). Similarity is {@code 1 - distance}.
     */
    WRD;

    /** The mass rule used when none is configured: {@link MassRule#UNIFORM} for WMD, {@link MassRule#NORM} for WRD. */
    public MassRule defaultMassRule() {
        return this == WMD ? MassRule.UNIFORM : MassRule.NORM;
    }
}
