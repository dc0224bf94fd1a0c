package dev.mover.scoring;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Scores token sequences by optimal transport (WMD or WRD), with lower bounds, alignments and ColBERT maxSim.
 *
 * <p>Usage: configure once with {@link #builder(Metric)}, prepare each query once with
 * {@link #prepareQuery(TokenMatrix, double[])}, then call {@link #score} for each document of a rescore window. The
 * scorer owns a workspace (document buffers, cost matrix, solver state) that grows to the largest pair seen and is
 * reused, so scoring a window allocates only the small result objects. A scorer is <b>thread-confined</b>; a
 * {@link Prepared} query is immutable and may be shared by scorers of the same configuration on several threads.
 *
 * <p>Precision: masses, costs, bounds and solvers are all computed in double precision from the stored components
 * (float or double). The Euclidean cost is computed from differences and the cosine cost from dot products of the
 * unit query row with the stored document row divided by the document norm, never through {@code |a|^2 + |b|^2 - 2ab}.
 * Float rows are widened to double inside the kernels (exactly), never copied. This is the path the golden checks
 * use; the cost matrix uses the Panama Vector API when available (see {@code CostKernelsProvider}), with identical
 * formulas.
 *
 * <p>Undefined distances are rejected with an {@link IllegalArgumentException} that names the problem: empty
 * sequences, WRD sides whose vectors all have norm zero, mismatched dimensions, negative, non-finite or all-zero
 * explicit weights. NaN and infinite components are rejected when the {@link TokenMatrix} is built.
 */
public final class OtScorer {
    private final Metric metric;
    private final MassRule massRule;
    private final Solver solver;
    private final double sinkhornEpsilon;
    private final boolean epsilonRelativeToMaxCost;
    private final double sinkhornTolerance;
    private final int sinkhornMaxIterations;
    private final CostKernels kernels;

    private final NetworkSimplex emd = new NetworkSimplex();
    private final Sinkhorn sinkhorn = new Sinkhorn();
    private final Problem problem = new Problem();

    private double[] docRows = new double[0];
    /** Rows used in the cost of the current document: {@code docRows}, or the document's own double array. */
    private double[] docData = docRows;
    private double[] docNorms = new double[0];
    /** 1 / norm of each positive-mass document row, when {@code docRawUnit}. */
    private double[] docInvNorm = new double[0];
    /** WRD rows in {@code docData} are the stored ones, not unit length: dot products are divided by the norms. */
    private boolean docRawUnit;
    /** Float rows the kernels read for the current document (widening in registers), or null to read {@code docData}. */
    private float[] docFloats;
    private float[] docRowsF = new float[0];
    private double[] docMass = new double[0];
    private int[] docIndex = new int[0];
    private double[] docCentroid = new double[0];
    private double[] cost = new double[0];
    private double[] dualU = new double[0];
    private double[] dualV = new double[0];
    private double[] colMin = new double[0];
    private double[] rowMinima = new double[0];
    private double[] sims = new double[0];
    private double[] queryUnit = new double[0];
    private int[] topIdx = new int[0];
    private double[] topVal = new double[0];

    private OtScorer(Builder b) {
        this.metric = b.metric;
        this.massRule = b.massRule != null ? b.massRule : b.metric.defaultMassRule();
        this.solver = b.solver;
        this.sinkhornEpsilon = b.sinkhornEpsilon;
        this.epsilonRelativeToMaxCost = b.epsilonRelativeToMaxCost;
        this.sinkhornTolerance = b.sinkhornTolerance;
        this.sinkhornMaxIterations = b.sinkhornMaxIterations;
        this.kernels = b.kernels != null ? b.kernels : CostKernelsProvider.get();
    }

    /** Starts a configuration for the given metric (EMD solver, the metric's default mass rule). */
    public static Builder builder(Metric metric) {
        if (metric == null) {
            throw new IllegalArgumentException("[mover] metric must not be null");
        }
        return new Builder(metric);
    }

    /** Configuration of an {@link OtScorer}. */
    public static final class Builder {
        private final Metric metric;
        private MassRule massRule;
        private Solver solver = Solver.EMD;
        private double sinkhornEpsilon = 0.05;
        private boolean epsilonRelativeToMaxCost = true;
        private double sinkhornTolerance = 1e-9;
        private int sinkhornMaxIterations = 10_000;
        private CostKernels kernels;

        private Builder(Metric metric) {
            this.metric = metric;
        }

        /** Mass rule; defaults to {@link Metric#defaultMassRule()}. */
        public Builder massRule(MassRule rule) {
            this.massRule = rule;
            return this;
        }

        /** Solver producing the distance; defaults to {@link Solver#EMD}. */
        public Builder solver(Solver s) {
            if (s == null) {
                throw new IllegalArgumentException("[mover] solver must not be null");
            }
            this.solver = s;
            return this;
        }

        /**
         * Sinkhorn regularisation (default 0.05 relative to the max cost).
         *
         * @param epsilon positive and finite
         * @param relativeToMaxCost if true, {@code eps_abs = epsilon * costMax} per pair; otherwise {@code eps_abs = epsilon}
         */
        public Builder sinkhornEpsilon(double epsilon, boolean relativeToMaxCost) {
            if (!(epsilon > 0) || !Double.isFinite(epsilon)) {
                throw new IllegalArgumentException("[mover] sinkhorn epsilon must be positive and finite but was [" + epsilon + "]");
            }
            this.sinkhornEpsilon = epsilon;
            this.epsilonRelativeToMaxCost = relativeToMaxCost;
            return this;
        }

        /** Stop when the L1 column-marginal violation is below this (default 1e-9). */
        public Builder sinkhornTolerance(double tolerance) {
            if (!(tolerance > 0) || !Double.isFinite(tolerance)) {
                throw new IllegalArgumentException("[mover] sinkhorn tolerance must be positive but was [" + tolerance + "]");
            }
            this.sinkhornTolerance = tolerance;
            return this;
        }

        /** Sweep cap (default 10000); an unconverged result is reported with {@code converged == false}. */
        public Builder sinkhornMaxIterations(int maxIterations) {
            if (maxIterations < 1) {
                throw new IllegalArgumentException("[mover] sinkhorn max iterations must be >= 1 but was [" + maxIterations + "]");
            }
            this.sinkhornMaxIterations = maxIterations;
            return this;
        }

        /** Forces the scalar cost kernels (tests compare them with the vectorised ones). */
        Builder kernels(CostKernels k) {
            this.kernels = k;
            return this;
        }

        public OtScorer build() {
            return new OtScorer(this);
        }
    }

    public Metric metric() {
        return metric;
    }

    public MassRule massRule() {
        return massRule;
    }

    public Solver solver() {
        return solver;
    }

    /** Name of the cost kernels in use ({@code scalar} or {@code panama-...}). */
    public String kernelName() {
        return kernels.name();
    }

    /**
     * A query resolved once for many documents: masses, the active (positive-mass) token rows in double precision
     * (raw for WMD, unit-normalised for WRD), the mass-weighted centroid for WCD, and all rows with their norms for
     * maxSim. Immutable (its arrays are never written after construction).
     */
    public static final class Prepared {
        final Metric metric;
        final MassRule massRule;
        final int rows;
        final int dims;
        final int active;
        final int[] index;
        final double[] mass;
        final double[] data;
        final double[] centroid;
        final int unitCount;
        final double[] raw;
        final double[] norms;

        private Prepared(Metric metric, MassRule massRule, int rows, int dims, int active, int[] index, double[] mass,
                         double[] data, double[] centroid, int unitCount, double[] raw, double[] norms) {
            this.metric = metric;
            this.massRule = massRule;
            this.rows = rows;
            this.dims = dims;
            this.active = active;
            this.index = index;
            this.mass = mass;
            this.data = data;
            this.centroid = centroid;
            this.unitCount = unitCount;
            this.raw = raw;
            this.norms = norms;
        }

        /** Number of query tokens as given. */
        public int rows() {
            return rows;
        }

        /** Vector dimension. */
        public int dims() {
            return dims;
        }

        /** Number of tokens with positive mass (the others take no part in the transport). */
        public int activeTokens() {
            return active;
        }

        /** The resolved mass of token {@code t} (0 for dropped tokens). */
        public double mass(int t) {
            for (int k = 0; k < active; k++) {
                if (index[k] == t) {
                    return mass[k];
                }
            }
            return 0;
        }
    }

    /**
     * Resolves the query's masses and vectors.
     *
     * @param q the query tokens
     * @param weightsOrNull explicit weights (one per token) when the mass rule is {@link MassRule#EXPLICIT}, else null
     * @throws IllegalArgumentException if the query is empty, its masses are undefined or the weights are invalid
     */
    public Prepared prepareQuery(TokenMatrix q, double[] weightsOrNull) {
        if (q == null) {
            throw new IllegalArgumentException("[mover] query must not be null");
        }
        int n = q.rows();
        int d = q.dims();
        double[] raw = q.doublesOrNull();
        if (raw == null) {
            raw = new double[n * d];
            q.copyTo(raw, 0);
        }
        double[] norms = new double[n];
        double[] massAll = new double[n];
        int[] index = new int[n];
        int active = resolveMasses("query", raw, n, d, weightsOrNull, norms, massAll, index);
        double[] mass = new double[active];
        boolean reuseRaw = metric == Metric.WMD && active == n;
        double[] data = reuseRaw ? raw : new double[active * d];
        double[] centroid = new double[d];
        for (int k = 0; k < active; k++) {
            int t = index[k];
            mass[k] = massAll[t];
            if (!reuseRaw) {
                fillRow(raw, t, d, norms[t], data, k);
            }
            for (int c = 0; c < d; c++) {
                centroid[c] += mass[k] * data[k * d + c];
            }
        }
        int nonZero = 0;
        for (int t = 0; t < n; t++) {
            if (norms[t] > 0) {
                nonZero++;
            }
        }
        return new Prepared(metric, massRule, n, d, active, trim(index, active), mass, data, centroid, nonZero, raw, norms);
    }

    private static int[] trim(int[] a, int len) {
        return a.length == len ? a : java.util.Arrays.copyOf(a, len);
    }

    /** Writes the row used in the cost: raw for WMD, unit-normalised for WRD. */
    private void fillRow(double[] raw, int t, int d, double norm, double[] out, int k) {
        if (metric == Metric.WMD) {
            System.arraycopy(raw, t * d, out, k * d, d);
        } else {
            double inv = 1.0 / norm;
            for (int c = 0; c < d; c++) {
                out[k * d + c] = raw[t * d + c] * inv;
            }
        }
    }

    /**
     * Computes norms and masses of one side; returns the number of positive-mass tokens, whose indices go to
     * {@code index} in order.
     */
    private int resolveMasses(String side, double[] raw, int rows, int d, double[] weights, double[] norms,
                              double[] mass, int[] index) {
        checkNonEmpty(side, rows);
        for (int t = 0; t < rows; t++) {
            norms[t] = Math.sqrt(kernels.sumSquares(raw, t * d, d, null));
        }
        return massesFromNorms(side, rows, weights, norms, mass, index);
    }

    private void checkNonEmpty(String side, int rows) {
        if (rows == 0) {
            throw new IllegalArgumentException("[mover] " + side + " has no tokens, the " + metric + " distance is undefined");
        }
    }

    /**
     * Masses of one side from its token norms (already in {@code norms}); returns the number of positive-mass tokens,
     * whose indices go to {@code index} in order.
     */
    private int massesFromNorms(String side, int rows, double[] weights, double[] norms, double[] mass, int[] index) {
        double normSum = 0;
        for (int t = 0; t < rows; t++) {
            if (!(norms[t] < Double.POSITIVE_INFINITY)) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "[mover] %s token [%d] is too large: its squared norm overflows double", side, t));
            }
            normSum += norms[t];
        }
        if (massRule != MassRule.EXPLICIT && weights != null) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] %s weights were given but the mass rule is [%s]; use EXPLICIT", side, massRule));
        }
        switch (massRule) {
            case UNIFORM:
                for (int t = 0; t < rows; t++) {
                    mass[t] = 1.0 / rows;
                }
                break;
            case NORM:
                if (!(normSum > 0)) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "[mover] %s has zero total norm: all [%d] token vectors are zero, the %s distance is undefined",
                        side, rows, metric));
                }
                for (int t = 0; t < rows; t++) {
                    mass[t] = norms[t] / normSum;
                }
                break;
            case EXPLICIT:
                if (weights == null) {
                    throw new IllegalArgumentException("[mover] mass rule [EXPLICIT] needs " + side + " weights but none were given");
                }
                if (weights.length != rows) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "[mover] %s has [%d] weights for [%d] tokens", side, weights.length, rows));
                }
                double sum = 0;
                for (int t = 0; t < rows; t++) {
                    double w = weights[t];
                    if (!(w >= 0) || !Double.isFinite(w)) {
                        throw new IllegalArgumentException(String.format(Locale.ROOT,
                            "[mover] %s weight [%d] must be finite and >= 0 but was [%s]", side, t, w));
                    }
                    sum += w;
                }
                if (!(sum > 0)) {
                    throw new IllegalArgumentException("[mover] " + side + " weights are all zero, the masses are undefined");
                }
                for (int t = 0; t < rows; t++) {
                    mass[t] = weights[t] / sum;
                }
                break;
            default:
                throw new AssertionError(massRule);
        }
        int active = 0;
        for (int t = 0; t < rows; t++) {
            if (mass[t] > 0) {
                if (metric == Metric.WRD && !(norms[t] > 0)) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                        "[mover] %s token [%d] has norm zero but mass [%s]; its cosine cost is undefined", side, t, mass[t]));
                }
                index[active++] = t;
            }
        }
        if (active == 0) {
            throw new IllegalArgumentException("[mover] " + side + " has no token with positive mass");
        }
        return active;
    }

    /**
     * The transport problem of the last {@link #buildProblem} (or {@link #score}) call: positive masses of both sides
     * and the row-major cost matrix between positive-mass tokens. Owned by the scorer's workspace, valid until its next
     * call; exposed for benchmarks and checkers.
     */
    public static final class Problem {
        int n;
        int m;
        double[] a;
        double[] b;
        double[] cost;
        double costMax;
        double rwmdQ;
        double rwmdD;
        double wcd;
        int[] rowIndex;
        int[] colIndex;
        /** Row and column minima of the cost matrix, kept by {@link #buildProblem} for {@link #dualBound}. */
        double[] rowMin;
        double[] colMin;

        Problem() {}

        /** Number of query tokens with positive mass (problem rows). */
        public int n() {
            return n;
        }

        /** Number of document tokens with positive mass (problem columns). */
        public int m() {
            return m;
        }

        /** Query masses, first {@link #n()} entries. */
        public double[] queryMasses() {
            return a;
        }

        /** Document masses, first {@link #m()} entries. */
        public double[] docMasses() {
            return b;
        }

        /** Row-major n x m costs, first {@code n * m} entries. */
        public double[] cost() {
            return cost;
        }

        public double costMax() {
            return costMax;
        }

        public double rwmd() {
            return Math.max(rwmdQ, rwmdD);
        }

        public double rwmdQueryToDoc() {
            return rwmdQ;
        }

        public double rwmdDocToQuery() {
            return rwmdD;
        }

        public double wcd() {
            return wcd;
        }

        /** Original query token index of problem row {@code r}. */
        public int queryToken(int r) {
            return rowIndex[r];
        }

        /** Original document token index of problem column {@code c}. */
        public int docToken(int c) {
            return colIndex[c];
        }
    }

    private void checkPrepared(Prepared q) {
        if (q == null) {
            throw new IllegalArgumentException("[mover] prepared query must not be null");
        }
        if (q.metric != metric || q.massRule != massRule) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] query was prepared for [%s, %s] but this scorer is [%s, %s]", q.metric, q.massRule, metric, massRule));
        }
    }

    /**
     * Resolves the document's masses, its centroid and (if {@code rowsNeeded}) the rows the cost kernel reads
     * ({@code docData}); returns the number of positive-mass tokens.
     *
     * <p>For the default mass rules (WMD uniform, WRD norm) the centroid is a plain sum of the stored rows (uniform:
     * {@code sum_j y_j / m}; norm: {@code sum_j (|y_j| / S) y_j / |y_j| = sum_j y_j / S}), so one pass over the stored
     * components yields norms and centroid, and the rows are widened without being normalised: for WRD the kernel's
     * dot products are divided by the document norms afterwards ({@code docRawUnit}). Other rules take the general path.
     */
    private int setupDoc(Prepared q, TokenMatrix doc, double[] weights, boolean rowsNeeded) {
        if (doc == null) {
            throw new IllegalArgumentException("[mover] document must not be null");
        }
        if (doc.dims() != q.dims) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] document dims [%d] differ from query dims [%d]", doc.dims(), q.dims));
        }
        int rows = doc.rows();
        int d = q.dims;
        docNorms = ArraysUtil.grow(docNorms, rows);
        docMass = ArraysUtil.grow(docMass, rows);
        docIndex = ArraysUtil.grow(docIndex, rows);
        docCentroid = ArraysUtil.grow(docCentroid, d);
        boolean sumRule = weights == null
            && ((metric == Metric.WMD && massRule == MassRule.UNIFORM) || (metric == Metric.WRD && massRule == MassRule.NORM));
        if (sumRule) {
            return setupDocBySum(doc, rows, d, rowsNeeded);
        }
        docRawUnit = false;
        docFloats = null;
        docRows = ArraysUtil.grow(docRows, rows * d);
        // double storage is read in place (never written); float storage is widened into the workspace
        double[] src = doc.doublesOrNull();
        if (src == null) {
            doc.copyTo(docRows, 0);
            src = docRows;
        }
        int active = resolveMasses("document", src, rows, d, weights, docNorms, docMass, docIndex);
        java.util.Arrays.fill(docCentroid, 0, d, 0.0);
        if (metric == Metric.WMD && active == rows && src != docRows) {
            docData = src;
        } else {
            // compact positive-mass rows (in place when src is the workspace: index is increasing, k <= t)
            for (int k = 0; k < active; k++) {
                int t = docIndex[k];
                if (metric == Metric.WMD) {
                    if (src != docRows || k != t) {
                        System.arraycopy(src, t * d, docRows, k * d, d);
                    }
                } else {
                    double inv = 1.0 / docNorms[t];
                    for (int c = 0; c < d; c++) {
                        docRows[k * d + c] = src[t * d + c] * inv;
                    }
                }
            }
            docData = docRows;
        }
        for (int k = 0; k < active; k++) {
            docMass[k] = docMass[docIndex[k]];
            double w = docMass[k];
            for (int c = 0, o = k * d; c < d; c++) {
                docCentroid[c] += w * docData[o + c];
            }
        }
        return active;
    }

    /**
     * {@link #setupDoc} for WMD with uniform masses and WRD with norm masses: one pass over the stored rows. Float
     * rows are never copied: the cost kernels widen them in registers ({@code docFloats}); only when zero-norm rows
     * must leave the problem are the others compacted into a float workspace.
     */
    private int setupDocBySum(TokenMatrix doc, int rows, int d, boolean rowsNeeded) {
        checkNonEmpty("document", rows);
        double[] cen = docCentroid;
        java.util.Arrays.fill(cen, 0, d, 0.0);
        float[] f = doc.floatsOrNull();
        double[] src = doc.doublesOrNull();
        for (int t = 0; t < rows; t++) {
            int o = t * d;
            docNorms[t] = Math.sqrt(f != null ? kernels.sumSquares(f, o, d, cen) : kernels.sumSquares(src, o, d, cen));
        }
        int active = massesFromNorms("document", rows, null, docNorms, docMass, docIndex);
        double total = 0;
        if (metric == Metric.WRD) {
            for (int t = 0; t < rows; t++) {
                total += docNorms[t];
            }
        } else {
            total = rows;
        }
        double inv = 1.0 / total;
        for (int c = 0; c < d; c++) {
            cen[c] *= inv;
        }
        docRawUnit = metric == Metric.WRD;
        if (rowsNeeded) {
            if (f != null) {
                docFloats = active == rows ? f : compactFloats(f, rows, active, d);
            } else {
                docFloats = null;
                double[] data = src;
                if (active < rows) {
                    // zero-norm rows (mass 0 under the norm rule) leave the problem: compact the others
                    docRows = ArraysUtil.grow(docRows, rows * d);
                    for (int k = 0; k < active; k++) {
                        System.arraycopy(src, docIndex[k] * d, docRows, k * d, d);
                    }
                    data = docRows;
                }
                docData = data;
            }
        }
        docInvNorm = ArraysUtil.grow(docInvNorm, active);
        for (int k = 0; k < active; k++) {
            int t = docIndex[k];
            docMass[k] = docMass[t];
            docInvNorm[k] = 1.0 / docNorms[t];
        }
        return active;
    }

    /** The rows {@code docIndex[0, active)} of {@code f}, compacted into the float workspace. */
    private float[] compactFloats(float[] f, int rows, int active, int d) {
        docRowsF = ArraysUtil.grow(docRowsF, rows * d);
        for (int k = 0; k < active; k++) {
            System.arraycopy(f, docIndex[k] * d, docRowsF, k * d, d);
        }
        return docRowsF;
    }

    /**
     * Builds masses and the cost matrix for one pair, plus cost_max, both RWMD halves and WCD, in the workspace.
     *
     * @throws IllegalArgumentException for undefined distances or invalid inputs (see the class javadoc)
     */
    public Problem buildProblem(Prepared q, TokenMatrix doc, double[] docWeightsOrNull) {
        checkPrepared(q);
        int m = setupDoc(q, doc, docWeightsOrNull, true);
        int n = q.active;
        int d = q.dims;
        cost = ArraysUtil.grow(cost, n * m);
        colMin = ArraysUtil.grow(colMin, m);
        rowMinima = ArraysUtil.grow(rowMinima, n);
        java.util.Arrays.fill(colMin, 0, m, Double.POSITIVE_INFINITY);
        double max = 0;
        double rq = 0;
        if (metric == Metric.WMD) {
            if (docFloats != null) {
                kernels.euclidean(q.data, n, docFloats, m, d, cost);
            } else {
                kernels.euclidean(q.data, n, docData, m, d, cost);
            }
            for (int i = 0; i < n; i++) {
                double rowMin = Double.POSITIVE_INFINITY;
                for (int j = 0, o = i * m; j < m; j++) {
                    double c = cost[o + j];
                    rowMin = c < rowMin ? c : rowMin;
                    colMin[j] = c < colMin[j] ? c : colMin[j];
                    max = c > max ? c : max;
                }
                rq += q.mass[i] * rowMin;
                rowMinima[i] = rowMin;
            }
        } else {
            if (docFloats != null) {
                kernels.dot(q.data, n, docFloats, m, d, cost);
            } else {
                kernels.dot(q.data, n, docData, m, d, cost);
            }
            double[] inv = docInvNorm;
            boolean raw = docRawUnit;
            for (int i = 0; i < n; i++) {
                double rowMin = Double.POSITIVE_INFINITY;
                for (int j = 0, o = i * m; j < m; j++) {
                    double c = 1.0 - (raw ? cost[o + j] * inv[j] : cost[o + j]);
                    c = c < 0 ? 0 : (c > 2 ? 2 : c);
                    cost[o + j] = c;
                    rowMin = c < rowMin ? c : rowMin;
                    colMin[j] = c < colMin[j] ? c : colMin[j];
                    max = c > max ? c : max;
                }
                rq += q.mass[i] * rowMin;
                rowMinima[i] = rowMin;
            }
        }
        double rd = 0;
        for (int j = 0; j < m; j++) {
            rd += docMass[j] * colMin[j];
        }
        double s = 0;
        for (int c = 0; c < d; c++) {
            double t = q.centroid[c] - docCentroid[c];
            s += t * t;
        }
        Problem p = problem;
        p.n = n;
        p.m = m;
        p.a = q.mass;
        p.b = docMass;
        p.cost = cost;
        p.costMax = max;
        p.rwmdQ = rq;
        p.rwmdD = rd;
        p.wcd = metric == Metric.WMD ? Math.sqrt(s) : 0.5 * s;
        p.rowIndex = q.index;
        p.colIndex = docIndex;
        p.rowMin = rowMinima;
        p.colMin = colMin;
        return p;
    }

    /**
     * Scores one document against a prepared query.
     *
     * @param q the prepared query (same metric and mass rule as this scorer)
     * @param doc the document tokens
     * @param docWeightsOrNull explicit document weights for {@link MassRule#EXPLICIT}, else null
     * @param alignments how many of the largest plan flows to return (0 for none)
     * @throws IllegalArgumentException for undefined distances or invalid inputs (see the class javadoc)
     */
    public OtResult score(Prepared q, TokenMatrix doc, double[] docWeightsOrNull, int alignments) {
        if (alignments < 0) {
            throw new IllegalArgumentException("[mover] alignments must be >= 0 but was [" + alignments + "]");
        }
        Problem p = buildProblem(q, doc, docWeightsOrNull);
        return solve(p, alignments);
    }

    /** Solves a problem built by {@link #buildProblem} with the configured solver. */
    public OtResult solve(Problem p, int alignments) {
        int n = p.n;
        int m = p.m;
        double distance;
        long iterations;
        boolean converged;
        double violation;
        List<Alignment> aligned;
        if (p.costMax == 0) {
            // every cost is zero: every plan is optimal and the value is exactly 0 for both solvers
            distance = 0;
            iterations = 0;
            converged = true;
            violation = 0;
            aligned = alignments == 0 ? Collections.emptyList() : productAlignments(p, alignments);
        } else if (solver == Solver.EMD) {
            distance = emd.solve(p.a, n, p.b, m, p.cost);
            iterations = emd.pivots();
            converged = true;
            violation = 0;
            aligned = alignments == 0 ? Collections.emptyList() : emdAlignments(p, alignments);
        } else {
            double eps = epsilonRelativeToMaxCost ? sinkhornEpsilon * p.costMax : sinkhornEpsilon;
            distance = sinkhorn.solve(p.a, n, p.b, m, p.cost, eps, sinkhornTolerance, sinkhornMaxIterations);
            iterations = sinkhorn.iterations();
            converged = sinkhorn.converged();
            violation = sinkhorn.violation();
            aligned = alignments == 0 ? Collections.emptyList() : sinkhornAlignments(p, alignments, eps);
        }
        double similarity = similarityOf(distance);
        return new OtResult(distance, similarity, p.rwmd(), p.rwmdQ, p.rwmdD, p.wcd, p.costMax, solver, iterations,
            converged, violation, aligned);
    }

    /** The similarity of a distance: {@code 1 - d} for WRD, {@code 1 / (1 + d)} for WMD. */
    private double similarityOf(double distance) {
        return metric == Metric.WRD ? 1.0 - distance : 1.0 / (1.0 + distance);
    }

    private PartialTransport partial;

    /**
     * Solves a problem built by {@link #buildProblem} as exact partial transport ({@link PartialTransport}) with
     * document mass fraction {@code fraction}; alignments are the largest query-token flows of its plan, per unit of
     * query mass. {@link OtResult#similarity()} is derived from the partial distance as for {@link #solve}.
     *
     * @throws IllegalArgumentException if {@code fraction} is outside (0, 1] or {@code alignments} is negative
     */
    public OtResult solvePartial(Problem p, double fraction, int alignments) {
        if (alignments < 0) {
            throw new IllegalArgumentException("[mover] alignments must be >= 0 but was [" + alignments + "]");
        }
        if (partial == null) {
            partial = new PartialTransport();
        }
        double distance;
        List<Alignment> aligned;
        if (p.costMax == 0) {
            distance = 0;
            aligned = alignments == 0 ? Collections.emptyList() : productAlignments(p, alignments);
        } else {
            distance = partial.distance(p, fraction);
            aligned = Collections.emptyList();
            if (alignments > 0) {
                NetworkSimplex plan = partial.lastSolver();
                int size = plan.planSize();
                topReset(alignments, size);
                for (int e = 0; e < size; e++) {
                    if (plan.planRow(e) < p.n) {   // rows past n belong to the dummy source
                        topOffer(plan.planRow(e) * p.m + plan.planCol(e), plan.planFlow(e) / fraction);
                    }
                }
                aligned = topList(p);
            }
        }
        double similarity = similarityOf(distance);
        return new OtResult(distance, similarity, p.rwmd(), p.rwmdQ, p.rwmdD, p.wcd, p.costMax, Solver.EMD,
            partial.lastSolver().pivots(), true, 0, aligned);
    }

    private List<Alignment> emdAlignments(Problem p, int k) {
        int size = emd.planSize();
        topReset(k, size);
        for (int e = 0; e < size; e++) {
            topOffer(emd.planRow(e) * p.m + emd.planCol(e), emd.planFlow(e));
        }
        return topList(p);
    }

    private List<Alignment> sinkhornAlignments(Problem p, int k, double eps) {
        topReset(k, (long) p.n * p.m);
        for (int i = 0; i < p.n; i++) {
            for (int j = 0; j < p.m; j++) {
                topOffer(i * p.m + j, sinkhorn.plan(i, j));
            }
        }
        return topList(p);
    }

    /** All costs are zero: the product plan a_i b_j is optimal. */
    private List<Alignment> productAlignments(Problem p, int k) {
        topReset(k, (long) p.n * p.m);
        for (int i = 0; i < p.n; i++) {
            for (int j = 0; j < p.m; j++) {
                topOffer(i * p.m + j, p.a[i] * p.b[j]);
            }
        }
        return topList(p);
    }

    private int topCount;
    private int topCap;

    /** Prepares a bounded heap for the k largest flows (k capped by the number of candidates). */
    private void topReset(int k, long candidates) {
        topCap = (int) Math.min(k, candidates);
        topIdx = ArraysUtil.grow(topIdx, topCap);
        topVal = ArraysUtil.grow(topVal, topCap);
        topCount = 0;
    }

    /** True if (va, ia) ranks below (vb, ib): smaller flow, or equal flow and larger index. */
    private static boolean worse(double va, int ia, double vb, int ib) {
        return va < vb || (va == vb && ia > ib);
    }

    /**
     * Offers a flow to a min-heap (root = worst kept) of at most {@code topCap} entries: O(log k) per offer. Ties keep
     * the smaller index, so the result is deterministic.
     */
    private void topOffer(int idx, double val) {
        if (!(val > 0) || topCap == 0) {
            return;
        }
        if (topCount < topCap) {
            int pos = topCount++;
            while (pos > 0) {
                int parent = (pos - 1) >>> 1;
                if (!worse(val, idx, topVal[parent], topIdx[parent])) {
                    break;
                }
                topVal[pos] = topVal[parent];
                topIdx[pos] = topIdx[parent];
                pos = parent;
            }
            topVal[pos] = val;
            topIdx[pos] = idx;
            return;
        }
        if (!worse(topVal[0], topIdx[0], val, idx)) {
            return;
        }
        int pos = 0;
        while (true) {
            int child = 2 * pos + 1;
            if (child >= topCount) {
                break;
            }
            if (child + 1 < topCount && worse(topVal[child + 1], topIdx[child + 1], topVal[child], topIdx[child])) {
                child++;
            }
            if (!worse(topVal[child], topIdx[child], val, idx)) {
                break;
            }
            topVal[pos] = topVal[child];
            topIdx[pos] = topIdx[child];
            pos = child;
        }
        topVal[pos] = val;
        topIdx[pos] = idx;
    }

    private List<Alignment> topList(Problem p) {
        Integer[] order = new Integer[topCount];
        for (int t = 0; t < topCount; t++) {
            order[t] = t;
        }
        java.util.Arrays.sort(order, (x, y) -> worse(topVal[x], topIdx[x], topVal[y], topIdx[y]) ? 1
            : (worse(topVal[y], topIdx[y], topVal[x], topIdx[x]) ? -1 : 0));
        List<Alignment> out = new ArrayList<>(topCount);
        for (Integer t : order) {
            int idx = topIdx[t];
            int i = idx / p.m;
            int j = idx % p.m;
            out.add(new Alignment(p.rowIndex[i], p.colIndex[j], topVal[t], p.cost[idx]));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * A lower bound of the distance for pruning: {@code max(WCD, RWMD)} (costs one cost matrix, no solver).
     *
     * @throws IllegalArgumentException as {@link #score}
     */
    public double lowerBound(Prepared q, TokenMatrix doc) {
        return lowerBound(q, doc, null);
    }

    /**
     * A lower bound of the exact (EMD) distance of a problem built by {@link #buildProblem}, at least
     * {@code max(rwmdQueryToDoc, rwmdDocToQuery)}: two dual-feasible potentials by c-transforms. From the row minima
     * {@code u_i = min_j C_ij}, {@code v_j = min_i (C_ij - u_i)} and again {@code u_i = min_j (C_ij - v_j)}; likewise
     * from the column minima. Any potentials with {@code u_i + v_j <= C_ij} give {@code sum_i a_i u_i + sum_j b_j v_j
     * <= EMD} (weak duality), and each c-transform only raises that sum, so the larger of the two is returned. O(n m),
     * a few passes over the cost matrix: meant for the hits that RWMD and WCD fail to prune, before a solve. Valid for
     * the EMD solver only (a Sinkhorn plan meets the document masses only within its tolerance).
     */
    public double dualBound(Problem p) {
        int n = p.n;
        int m = p.m;
        double[] c = p.cost;
        dualU = ArraysUtil.grow(dualU, n);
        dualV = ArraysUtil.grow(dualV, m);
        double[] u = dualU;
        double[] v = dualV;
        // from the row side: u = row minima (kept by buildProblem), then v = c-transform of u, then u = c-transform of v
        System.arraycopy(p.rowMin, 0, u, 0, n);
        double fromRows = alternate(p, u, v);
        // from the column side: v = column minima, u = c-transform of v, then v = c-transform of u
        System.arraycopy(p.colMin, 0, v, 0, m);
        for (int i = 0; i < n; i++) {
            double mn = Double.POSITIVE_INFINITY;
            for (int j = 0, o = i * m; j < m; j++) {
                mn = Math.min(mn, c[o + j] - v[j]);
            }
            u[i] = mn;
        }
        double fromCols = alternate(p, u, v);
        return Math.max(fromRows, fromCols);
    }

    private double[] fillCost = new double[0];
    private double[] fillCap = new double[0];

    /**
     * Atasu and Mittelholzer's ICT bound ("Linear-complexity data-parallel earth mover's distance approximations",
     * ICML 2019) of a problem built by {@link #buildProblem}: each query token sends its mass to its cheapest document
     * tokens, at most {@code b_j} to token {@code j} (the column sums are otherwise free), and likewise from the document
     * side; the larger of the two. Every transport plan has {@code x_ij <= min(a_i, b_j)}, so this relaxation is at most
     * the exact (EMD) distance, and it is at least the RWMD (which drops the capacities too). Where a token's mass fits
     * into its cheapest counterpart (a document token against a longer query) the term is the RWMD's. O(n m) expected
     * (weighted quickselect per token); meant for the hits RWMD and WCD fail to prune.
     */
    public double capacityBound(Problem p) {
        double rows = fillRows(p, 1.0);
        double cols = fill(p.cost, p.m, p.n, 1, p.m, p.b, p.a, 1.0);
        return Math.max(rows, cols);
    }

    /**
     * The query-to-document half of {@link #capacityBound} with document capacities {@code b_j / fraction}: a lower
     * bound of {@link #solvePartial partial transport} with that document mass fraction (every query unit moves, token
     * {@code j} receives at most {@code b_j / fraction}), at least its RWMD(q -> d) bound.
     */
    public double capacityBoundQueryToDoc(Problem p, double fraction) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("[mover] document mass fraction must be in (0, 1] but was [" + fraction + "]");
        }
        return fillRows(p, 1.0 / fraction);
    }

    private double fillRows(Problem p, double capacityScale) {
        return fill(p.cost, p.n, p.m, p.m, 1, p.a, p.b, capacityScale);
    }

    /**
     * Sum over the rows of a matrix read as {@code cost[r * rs + c * cs]} of the cheapest way to send the row mass
     * {@code need[r]} to columns of capacity {@code cap[c] * capScale}.
     */
    private double fill(double[] cost, int rows, int cols, int rs, int cs, double[] need, double[] cap, double capScale) {
        fillCost = ArraysUtil.grow(fillCost, cols);
        fillCap = ArraysUtil.grow(fillCap, cols);
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * rs;
            double mn = Double.POSITIVE_INFINITY;
            double capAtMin = 0;
            for (int c = 0, o = base; c < cols; c++, o += cs) {
                double v = cost[o];
                if (v < mn) {
                    mn = v;
                    capAtMin = cap[c];
                }
            }
            double rem = need[r];
            if (rem <= capAtMin * capScale) {
                total += rem * mn;      // the row fits into its cheapest column: the RWMD term
                continue;
            }
            for (int c = 0, o = base; c < cols; c++, o += cs) {
                fillCost[c] = cost[o];
                fillCap[c] = cap[c] * capScale;
            }
            total += cheapestFill(fillCost, fillCap, cols, rem);
        }
        return total;
    }

    /**
     * The least {@code sum c_k x_k} with {@code 0 <= x_k <= w_k} and {@code sum x_k = need} (greedy by cost), by a
     * weighted three-way quickselect that reorders {@code c} and {@code w} together; expected O(len). If the capacities
     * sum to less than {@code need} (rounding) every capacity is used, which can only lower the value.
     */
    static double cheapestFill(double[] c, double[] w, int len, double need) {
        double total = 0;
        int lo = 0;
        int hi = len;
        while (need > 0 && lo < hi) {
            double x = c[lo];
            double y = c[lo + (hi - lo) / 2];
            double z = c[hi - 1];
            double pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
            int lt = lo;
            int i = lo;
            int gt = hi;
            double wLess = 0;
            double cwLess = 0;
            double wEq = 0;
            while (i < gt) {
                double v = c[i];
                if (v < pivot) {
                    wLess += w[i];
                    cwLess += v * w[i];
                    swap(c, w, lt++, i++);
                } else if (v > pivot) {
                    swap(c, w, i, --gt);
                } else {
                    wEq += w[i];
                    i++;
                }
            }
            if (wLess >= need) {
                hi = lt;                // the cheapest `need` lies among the smaller costs (the pivot is one of the range)
                continue;
            }
            total += cwLess;
            need -= wLess;
            double take = Math.min(need, wEq);
            total += take * pivot;
            need -= take;
            lo = gt;
        }
        return total;
    }

    private static void swap(double[] c, double[] w, int i, int j) {
        double t = c[i];
        c[i] = c[j];
        c[j] = t;
        t = w[i];
        w[i] = w[j];
        w[j] = t;
    }

    /** Given u, sets v = c-transform of u and u = c-transform of v; returns the dual value sum a u + sum b v. */
    private static double alternate(Problem p, double[] u, double[] v) {
        int n = p.n;
        int m = p.m;
        double[] c = p.cost;
        java.util.Arrays.fill(v, 0, m, Double.POSITIVE_INFINITY);
        for (int i = 0; i < n; i++) {
            double ui = u[i];
            for (int j = 0, o = i * m; j < m; j++) {
                v[j] = Math.min(v[j], c[o + j] - ui);
            }
        }
        double total = 0;
        for (int i = 0; i < n; i++) {
            double mn = Double.POSITIVE_INFINITY;
            for (int j = 0, o = i * m; j < m; j++) {
                mn = Math.min(mn, c[o + j] - v[j]);
            }
            total += p.a[i] * mn;
        }
        for (int j = 0; j < m; j++) {
            total += p.b[j] * v[j];
        }
        return total;
    }

    /** {@link #lowerBound(Prepared, TokenMatrix)} with explicit document weights. */
    public double lowerBound(Prepared q, TokenMatrix doc, double[] docWeightsOrNull) {
        Problem p = buildProblem(q, doc, docWeightsOrNull);
        return Math.max(p.wcd, p.rwmd());
    }

    /**
     * The word centroid distance alone, in O((n + m) d) without a cost matrix: a cheap first filter before
     * {@link #lowerBound} or {@link #score} (Kusner et al.'s prefetch-and-prune). For WMD,
     * {@code ||sum_i a_i x_i - sum_j b_j y_j||}; for WRD the Jensen form {@code 0.5 ||sum_i a_i x_i/||x_i|| -
     * sum_j b_j y_j/||y_j|| ||^2}. Always at most the exact distance.
     *
     * @throws IllegalArgumentException as {@link #score}
     */
    public double wcd(Prepared q, TokenMatrix doc, double[] docWeightsOrNull) {
        checkPrepared(q);
        setupDoc(q, doc, docWeightsOrNull, false);
        int d = q.dims;
        double s = 0;
        for (int c = 0; c < d; c++) {
            double t = q.centroid[c] - docCentroid[c];
            s += t * t;
        }
        return metric == Metric.WMD ? Math.sqrt(s) : 0.5 * s;
    }

    /**
     * ColBERT late interaction: the mean over query tokens of the maximum cosine similarity to any document token.
     * Tokens with norm zero have no direction and are ignored on both sides; the mean is over the query tokens with
     * non-zero norm. Independent of the metric, mass rule and weights.
     *
     * @throws IllegalArgumentException if either side has no token with non-zero norm, or the dimensions differ
     */
    public double maxSim(Prepared q, TokenMatrix doc) {
        return maxSimSum(q, doc) / q.unitCount;
    }

    /** Like {@link #maxSim} but the sum over query tokens (ColBERT's original score). */
    public double maxSimSum(Prepared q, TokenMatrix doc) {
        if (q == null || doc == null) {
            throw new IllegalArgumentException("[mover] query and document must not be null");
        }
        if (doc.dims() != q.dims) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] document dims [%d] differ from query dims [%d]", doc.dims(), q.dims));
        }
        if (q.unitCount == 0) {
            throw new IllegalArgumentException("[mover] query has no token with non-zero norm, maxSim is undefined");
        }
        int rows = doc.rows();
        int d = q.dims;
        // rows are not normalised: each dot product is divided by the document norm afterwards; zero-norm rows have
        // no direction and are left out (the others compacted into a workspace, storage is never written)
        double[] src = doc.doublesOrNull();
        float[] f = doc.floatsOrNull();
        docInvNorm = ArraysUtil.grow(docInvNorm, rows);
        docIndex = ArraysUtil.grow(docIndex, rows);
        int m = 0;
        for (int t = 0; t < rows; t++) {
            double s = f != null ? kernels.sumSquares(f, t * d, d, null) : kernels.sumSquares(src, t * d, d, null);
            if (s > 0) {
                docIndex[m] = t;
                docInvNorm[m] = 1.0 / Math.sqrt(s);
                m++;
            }
        }
        if (m == 0) {
            throw new IllegalArgumentException("[mover] document has no token with non-zero norm, maxSim is undefined");
        }
        if (m < rows) {
            if (f != null) {
                f = compactFloats(f, rows, m, d);
            } else {
                docRows = ArraysUtil.grow(docRows, rows * d);
                for (int k = 0; k < m; k++) {
                    System.arraycopy(src, docIndex[k] * d, docRows, k * d, d);
                }
                src = docRows;
            }
        }
        int n = q.unitCount;
        queryUnit = ArraysUtil.grow(queryUnit, n * d);
        for (int t = 0, k = 0; t < q.rows; t++) {
            if (q.norms[t] > 0) {
                double inv = 1.0 / q.norms[t];
                for (int c = 0; c < d; c++) {
                    queryUnit[k * d + c] = q.raw[t * d + c] * inv;
                }
                k++;
            }
        }
        sims = ArraysUtil.grow(sims, n * m);
        if (f != null) {
            kernels.dot(queryUnit, n, f, m, d, sims);
        } else {
            kernels.dot(queryUnit, n, src, m, d, sims);
        }
        double[] inv = docInvNorm;
        double total = 0;
        for (int i = 0; i < n; i++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int j = 0, o = i * m; j < m; j++) {
                best = Math.max(best, sims[o + j] * inv[j]);
            }
            total += best;
        }
        return total;
    }
}
