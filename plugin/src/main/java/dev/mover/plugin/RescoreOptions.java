package dev.mover.plugin;

import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.common.io.stream.Writeable;

import java.io.IOException;
import java.util.Locale;

/**
 * Solver options of one {@code mover} rescorer: which solver, its Sinkhorn parameters, pruning and explanations.
 * Immutable; parsed by {@link MoverRescorerBuilder}.
 */
record RescoreOptions(Solver solver, double epsilon, boolean epsilonRelative, double tolerance, int maxIterations,
                      boolean prune, int topK, int alignments, String textField, Weights weights, String pooledField,
                      double pooledWeight, double docMass) implements Writeable {

    /** {@link #docMass()} of {@code "doc_mass": "auto"}: min(1, query tokens / document tokens) per hit. */
    static final double DOC_MASS_AUTO = -1;

    static final RescoreOptions DEFAULT = new RescoreOptions(Solver.EMD, 0.05, true, 1e-6, 1000, true, -1, 0, null, Weights.DEFAULT,
        null, 0.0, 1.0);

    /** Transport solver. */
    enum Solver {
        EMD, SINKHORN;

        static Solver parse(String s) {
            for (Solver v : values()) {
                if (v.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("[solver] must be one of [emd, sinkhorn] but was [" + s + "]");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Token masses: the metric's own (norms for WRD, uniform for WMD), BM25 idf of the text field, or norm x idf. */
    enum Weights {
        DEFAULT, IDF, NORM_IDF;

        static Weights parse(String s) {
            for (Weights v : values()) {
                if (v.name().toLowerCase(Locale.ROOT).equals(s)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("[weights] must be one of [default, idf, norm_idf] but was [" + s + "]");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    RescoreOptions {
        if (Double.isFinite(epsilon) == false || epsilon <= 0) {
            throw new IllegalArgumentException("[sinkhorn.epsilon] must be positive and finite but was [" + epsilon + "]");
        }
        if (Double.isFinite(tolerance) == false || tolerance <= 0) {
            throw new IllegalArgumentException("[sinkhorn.tolerance] must be positive and finite but was [" + tolerance + "]");
        }
        if (maxIterations < 1) {
            throw new IllegalArgumentException("[sinkhorn.max_iterations] must be at least [1] but was [" + maxIterations + "]");
        }
        if (alignments < 0 || alignments > 100) {
            throw new IllegalArgumentException("[alignments] must be between [0] and [100] but was [" + alignments + "]");
        }
        if (Double.isFinite(pooledWeight) == false || pooledWeight < 0 || pooledWeight > 1) {
            throw new IllegalArgumentException("[pooled_weight] must be between [0] and [1] but was [" + pooledWeight + "]");
        }
        if (docMass != DOC_MASS_AUTO && (Double.isFinite(docMass) == false || docMass <= 0 || docMass > 1)) {
            throw new IllegalArgumentException("[doc_mass] must be [auto] or a number in (0, 1] but was [" + docMass + "]");
        }
        if (topK != -1 && topK < 1) {
            throw new IllegalArgumentException("[top_k] must be at least [1] but was [" + topK + "]");
        }
    }

    RescoreOptions(StreamInput in) throws IOException {
        this(in.readEnum(Solver.class), in.readDouble(), in.readBoolean(), in.readDouble(), in.readVInt(), in.readBoolean(),
            in.readInt(), in.readVInt(), in.readOptionalString(), in.readEnum(Weights.class),
            in.readOptionalString(), in.readDouble(), in.readDouble());
    }

    @Override
    public void writeTo(StreamOutput out) throws IOException {
        out.writeEnum(solver);
        out.writeDouble(epsilon);
        out.writeBoolean(epsilonRelative);
        out.writeDouble(tolerance);
        out.writeVInt(maxIterations);
        out.writeBoolean(prune);
        out.writeInt(topK);
        out.writeVInt(alignments);
        out.writeOptionalString(textField);
        out.writeEnum(weights);
        out.writeOptionalString(pooledField);
        out.writeDouble(pooledWeight);
        out.writeDouble(docMass);
    }

    /** Whether the transport is partial ({@code doc_mass} below 1 or auto). */
    boolean partial() {
        return docMass != 1.0;
    }

    RescoreOptions withDocMass(double d) {
        return new RescoreOptions(solver, epsilon, epsilonRelative, tolerance, maxIterations, prune, topK, alignments, textField, weights,
            pooledField, pooledWeight, d);
    }

    RescoreOptions withSolver(Solver s) {
        return new RescoreOptions(s, epsilon, epsilonRelative, tolerance, maxIterations, prune, topK, alignments, textField, weights, pooledField, pooledWeight, docMass);
    }

    RescoreOptions withSinkhorn(double eps, boolean rel, double tol, int maxIt) {
        return new RescoreOptions(solver, eps, rel, tol, maxIt, prune, topK, alignments, textField, weights, pooledField, pooledWeight, docMass);
    }

    RescoreOptions withPrune(boolean p) {
        return new RescoreOptions(solver, epsilon, epsilonRelative, tolerance, maxIterations, p, topK, alignments, textField, weights, pooledField, pooledWeight, docMass);
    }

    RescoreOptions withTopK(int k) {
        return new RescoreOptions(solver, epsilon, epsilonRelative, tolerance, maxIterations, prune, k, alignments, textField, weights, pooledField, pooledWeight, docMass);
    }

    RescoreOptions withAlignments(int a) {
        return new RescoreOptions(solver, epsilon, epsilonRelative, tolerance, maxIterations, prune, topK, a, textField, weights, pooledField, pooledWeight, docMass);
    }

    RescoreOptions withWeights(Weights w) {
        return new RescoreOptions(solver, epsilon, epsilonRelative, tolerance, maxIterations, prune, topK, alignments, textField, w, pooledField, pooledWeight, docMass);
    }

    RescoreOptions withPooled(String field, double weight) {
        return new RescoreOptions(solver, epsilon, epsilonRelative, tolerance, maxIterations, prune, topK, alignments, textField, weights,
            field, weight, docMass);
    }

    RescoreOptions withTextField(String f) {
        return new RescoreOptions(solver, epsilon, epsilonRelative, tolerance, maxIterations, prune, topK, alignments, f, weights, pooledField, pooledWeight, docMass);
    }
}
