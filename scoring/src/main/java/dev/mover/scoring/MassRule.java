package dev.mover.scoring;

/**
 * How token masses (the marginals of the transport problem) are derived. Masses are always normalised in double
 * precision so that both sides sum to one; tokens with mass zero are removed before solving.
 */
public enum MassRule {
    /** Each of the n tokens gets mass {@code 1/n} (repeated tokens each count). */
    UNIFORM,
    /** Mass proportional to the Euclidean norm of the token vector; zero-norm tokens get mass 0 and drop out. */
    NORM,
    /** Caller-supplied non-negative finite weights (e.g. idf), divided by their sum. */
    EXPLICIT
}
