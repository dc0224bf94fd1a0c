package dev.mover.scoring;

import java.util.Locale;

/**
 * Exact solver for the balanced transportation problem (the earth mover's distance) by the primal network simplex
 * method, in double precision.
 *
 * <p>Given masses {@code a} (n sources), {@code b} (m sinks) with {@code sum(a) = sum(b)} and a row-major cost matrix
 * {@code C} (n x m), it solves
 * <pre>
 *   min_T  sum_ij T_ij C_ij   subject to  T_ij &gt;= 0,  sum_j T_ij = a_i,  sum_i T_ij = b_j.
 * </pre>
 * The algorithm keeps a strongly feasible spanning tree (parent / predecessor / thread / successor-count arrays,
 * Ahuja, Magnanti and Orlin, <i>Network Flows</i>, 1993, ch. 11; the layout follows LEMON's {@code NetworkSimplex}),
 * starts from an artificial root with big-M arcs, applies one heuristic pivot per sink (its cheapest incoming arc) and
 * then block-search pricing (block size {@code sqrt(n m)}) until no arc has a reduced cost below
 * {@code -2.2e-15 * max(|pi_u|, |pi_v|, |C_uv|)}. Arcs are implicit ({@code arc = i * m + j}), and tree arcs are
 * masked with {@code +inf} in a private copy of the costs so that pricing is one branch-free scan.
 *
 * <p>There is no iteration cap that returns early: the method runs until the optimality test holds (the strongly
 * feasible tree rules out cycling), so the returned value is never a silently truncated one. A safety net far above
 * practice ({@code 10^6 + 100 n m + 1000 (n + m)} pivots) throws {@link IllegalStateException} rather than loop
 * forever should rounding ever stall the method. Each pivot costs O(n + m) for the tree update and
 * at most O(n m) for pricing; in practice the number of pivots grows roughly linearly with n + m.
 *
 * <p>An instance owns its workspace and is not thread-safe; reuse one instance for many problems.
 */
public final class NetworkSimplex {
    private static final double EPSILON = 2.2204460492503131e-15;
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final int MIN_BLOCK_SIZE = 10;

    private int n;
    private int m;
    private int nodeNum;
    private int arcNum;
    private int root;
    private double[] cost;

    private double[] masked = new double[0];
    private double[] flow = new double[0];
    private double[] artCost = new double[0];
    private int[] artSrc = new int[0];
    private int[] artTgt = new int[0];
    private double[] supply = new double[0];
    private double[] pi = new double[0];
    private int[] parent = new int[0];
    private int[] pred = new int[0];
    private int[] thread = new int[0];
    private int[] revThread = new int[0];
    private int[] succNum = new int[0];
    private int[] lastSucc = new int[0];
    private int[] dirtyRevs = new int[0];
    private boolean[] forward = new boolean[0];
    private boolean flowDirty;

    private int blockSize;
    private int nextArc;
    private int inArc;
    private int join;
    private int uIn;
    private int vIn;
    private int uOut;
    private double delta;
    private long pivots;

    private int planSize;
    private int[] planRow = new int[0];
    private int[] planCol = new int[0];
    private double[] planFlow = new double[0];
    private double distance;

    /** Creates a solver with an empty workspace; buffers grow on first use and are reused afterwards. */
    public NetworkSimplex() {}

    /**
     * Solves the transportation problem and keeps the optimal basic plan (at most n + m - 1 positive flows).
     *
     * @param a source masses, {@code a.length >= n}, finite and positive
     * @param n number of sources, at least 1
     * @param b sink masses, {@code b.length >= m}, finite and positive
     * @param m number of sinks, at least 1
     * @param c row-major costs, {@code c.length >= n * m}, finite; not modified
     * @return the optimal value {@code sum_ij T_ij C_ij}, summed with compensation over the plan
     * @throws IllegalArgumentException if sizes, masses or costs are invalid or the masses do not balance to 1e-12
     */
    public double solve(double[] a, int n, double[] b, int m, double[] c) {
        validate(a, n, b, m, c);
        this.n = n;
        this.m = m;
        this.cost = c;
        this.nodeNum = n + m;
        this.arcNum = n * m;
        ensureCapacity();
        init(a, b);
        initialPivots();
        long guard = pivotGuard(arcNum, nodeNum);
        while (findEnteringArc()) {
            if (pivots >= guard) {
                flowDirty = true;
                throw new IllegalStateException(String.format(Locale.ROOT,
                    "[mover] network simplex did not reach optimality within [%d] pivots for n [%d] x m [%d]; "
                        + "refusing to return a non-optimal value", guard, n, m));
            }
            pivot();
        }
        finish(a, b);
        return distance;
    }

    /**
     * A safety net against floating-point stalling, far above practice (about 20 (n + m) pivots on dense random
     * problems): exceeding it throws instead of returning a non-optimal value.
     */
    static long pivotGuard(int arcNum, int nodeNum) {
        return 1_000_000L + 100L * arcNum + 1000L * nodeNum;
    }

    private static void validate(double[] a, int n, double[] b, int m, double[] c) {
        if (n < 1 || m < 1) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] transport problem needs at least one source and one sink but was n [%d], m [%d]", n, m));
        }
        if ((long) n * m > Integer.MAX_VALUE - 2L * (n + m)) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] transport problem too large: n [%d] x m [%d]", n, m));
        }
        if (a.length < n || b.length < m || c.length < n * m) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] array lengths a [%d], b [%d], c [%d] too short for n [%d], m [%d]",
                a.length, b.length, c.length, n, m));
        }
        double sa = 0;
        double sb = 0;
        for (int i = 0; i < n; i++) {
            if (!(a[i] > 0) || !Double.isFinite(a[i])) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "[mover] source mass [%d] must be finite and positive but was [%s]", i, a[i]));
            }
            sa += a[i];
        }
        for (int j = 0; j < m; j++) {
            if (!(b[j] > 0) || !Double.isFinite(b[j])) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "[mover] sink mass [%d] must be finite and positive but was [%s]", j, b[j]));
            }
            sb += b[j];
        }
        if (Math.abs(sa - sb) > 1e-12 * Math.max(sa, sb)) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "[mover] masses do not balance: sum(a) [%s] != sum(b) [%s]", sa, sb));
        }
        for (int k = 0, len = n * m; k < len; k++) {
            if (!Double.isFinite(c[k])) {
                throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "[mover] cost [%d][%d] is not finite [%s]", k / m, k % m, c[k]));
            }
        }
    }

    private void ensureCapacity() {
        int arcs = arcNum;
        int nodes = nodeNum + 1;
        if (masked.length < arcs) {
            masked = new double[ArraysUtil.oversize(arcs)];
            flow = new double[ArraysUtil.oversize(arcs + nodes)];
            flowDirty = false;
        }
        if (flow.length < arcs + nodes) {
            flow = new double[ArraysUtil.oversize(arcs + nodes)];
            flowDirty = false;
        }
        if (pi.length < nodes) {
            int cap = ArraysUtil.oversize(nodes);
            artCost = new double[cap];
            artSrc = new int[cap];
            artTgt = new int[cap];
            supply = new double[cap];
            pi = new double[cap];
            parent = new int[cap];
            pred = new int[cap];
            thread = new int[cap];
            revThread = new int[cap];
            succNum = new int[cap];
            lastSucc = new int[cap];
            dirtyRevs = new int[cap];
            forward = new boolean[cap];
            planRow = new int[cap];
            planCol = new int[cap];
            planFlow = new double[cap];
        }
        if (flowDirty) {
            java.util.Arrays.fill(flow, 0.0);
            flowDirty = false;
        }
    }

    private int source(int arc) {
        return arc < arcNum ? arc / m : artSrc[arc - arcNum];
    }

    private int target(int arc) {
        return arc < arcNum ? n + arc % m : artTgt[arc - arcNum];
    }

    private double costOf(int arc) {
        return arc < arcNum ? cost[arc] : artCost[arc - arcNum];
    }

    private void init(double[] a, double[] b) {
        double maxAbs = 0;
        for (int k = 0; k < arcNum; k++) {
            double v = cost[k];
            masked[k] = v;
            maxAbs = Math.max(maxAbs, Math.abs(v));
        }
        double artificial = (maxAbs + 1) * nodeNum;
        for (int i = 0; i < n; i++) {
            supply[i] = a[i];
        }
        for (int j = 0; j < m; j++) {
            supply[n + j] = -b[j];
        }
        root = nodeNum;
        parent[root] = -1;
        pred[root] = -1;
        thread[root] = 0;
        revThread[0] = root;
        succNum[root] = nodeNum + 1;
        lastSucc[root] = root - 1;
        supply[root] = 0;
        pi[root] = 0;
        for (int u = 0; u < nodeNum; u++) {
            int e = arcNum + u;
            parent[u] = root;
            pred[u] = e;
            thread[u] = u + 1;
            revThread[u + 1] = u;
            succNum[u] = 1;
            lastSucc[u] = u;
            if (supply[u] >= 0) {
                forward[u] = true;
                pi[u] = 0;
                artSrc[u] = u;
                artTgt[u] = root;
                flow[e] = supply[u];
                artCost[u] = 0;
            } else {
                forward[u] = false;
                pi[u] = artificial;
                artSrc[u] = root;
                artTgt[u] = u;
                flow[e] = -supply[u];
                artCost[u] = artificial;
            }
        }
        blockSize = Math.max((int) Math.sqrt((double) arcNum), MIN_BLOCK_SIZE);
        nextArc = 0;
        pivots = 0;
        flowDirty = true;
    }

    /** One pivot per sink on its cheapest incoming arc, if that arc has a negative reduced cost. */
    private void initialPivots() {
        for (int j = 0; j < m; j++) {
            double best = INF;
            int bestArc = -1;
            for (int i = 0, arc = j; i < n; i++, arc += m) {
                if (cost[arc] < best) {
                    best = cost[arc];
                    bestArc = arc;
                }
            }
            if (bestArc < 0 || masked[bestArc] == INF) {
                continue;
            }
            if (cost[bestArc] + pi[bestArc / m] - pi[n + j] >= 0) {
                continue;
            }
            inArc = bestArc;
            pivot();
        }
    }

    private boolean findEnteringArc() {
        final double[] cm = masked;
        final double[] p = pi;
        final int mm = m;
        final int nn = n;
        double min = 0;
        int in = -1;
        int cnt = blockSize;
        int e = nextArc;
        int scanned = 0;
        while (scanned < arcNum) {
            int i = e / mm;
            int j = e - i * mm;
            int len = Math.min(mm - j, cnt);
            double pis = p[i];
            int pj = nn + j - e;
            for (int k = e, end = e + len; k < end; k++) {
                double rc = cm[k] + pis - p[pj + k];
                if (rc < min) {
                    min = rc;
                    in = k;
                }
            }
            e += len;
            scanned += len;
            cnt -= len;
            if (e == arcNum) {
                e = 0;
            }
            if (cnt == 0) {
                if (in >= 0 && min < -EPSILON * tolScale(in)) {
                    nextArc = e;
                    inArc = in;
                    return true;
                }
                cnt = blockSize;
            }
        }
        if (in >= 0 && min < -EPSILON * tolScale(in)) {
            nextArc = e;
            inArc = in;
            return true;
        }
        return false;
    }

    private double tolScale(int arc) {
        double s = Math.abs(pi[arc / m]);
        s = Math.max(s, Math.abs(pi[n + arc % m]));
        return Math.max(s, Math.abs(cost[arc]));
    }

    private void pivot() {
        pivots++;
        findJoinNode();
        boolean change = findLeavingArc();
        if (delta == INF) {
            throw new IllegalStateException("[mover] network simplex: unbounded cycle, costs must be finite");
        }
        changeFlow(change);
        if (change) {
            updateTreeStructure();
            updatePotential();
        }
    }

    private void findJoinNode() {
        int u = source(inArc);
        int v = target(inArc);
        while (u != v) {
            if (succNum[u] < succNum[v]) {
                u = parent[u];
            } else {
                v = parent[v];
            }
        }
        join = u;
    }

    private boolean findLeavingArc() {
        int first = source(inArc);
        int second = target(inArc);
        delta = INF;
        int result = 0;
        for (int u = first; u != join; u = parent[u]) {
            double d = forward[u] ? flow[pred[u]] : INF;
            if (d < delta) {
                delta = d;
                uOut = u;
                result = 1;
            }
        }
        for (int u = second; u != join; u = parent[u]) {
            double d = forward[u] ? INF : flow[pred[u]];
            if (d <= delta) {
                delta = d;
                uOut = u;
                result = 2;
            }
        }
        if (result == 1) {
            uIn = first;
            vIn = second;
        } else {
            uIn = second;
            vIn = first;
        }
        return result != 0;
    }

    private void changeFlow(boolean change) {
        if (delta > 0) {
            double val = delta;
            flow[inArc] += val;
            for (int u = source(inArc); u != join; u = parent[u]) {
                flow[pred[u]] += forward[u] ? -val : val;
            }
            for (int u = target(inArc); u != join; u = parent[u]) {
                flow[pred[u]] += forward[u] ? val : -val;
            }
        }
        if (change) {
            masked[inArc] = INF;
            int out = pred[uOut];
            if (out < arcNum) {
                masked[out] = cost[out];
            }
        }
    }

    private void updateTreeStructure() {
        int oldRevThread = revThread[uOut];
        int oldSuccNum = succNum[uOut];
        int oldLastSucc = lastSucc[uOut];
        int vOut = parent[uOut];

        int u = lastSucc[uIn];
        int right = thread[u];
        int last;
        if (oldRevThread == vIn) {
            last = thread[lastSucc[uOut]];
        } else {
            last = thread[vIn];
        }

        int stem = uIn;
        thread[vIn] = stem;
        int dirty = 0;
        dirtyRevs[dirty++] = vIn;
        int parStem = vIn;
        while (stem != uOut) {
            int newStem = parent[stem];
            thread[u] = newStem;
            dirtyRevs[dirty++] = u;

            int w = revThread[stem];
            thread[w] = right;
            revThread[right] = w;

            parent[stem] = parStem;
            parStem = stem;
            stem = newStem;

            u = lastSucc[stem] == lastSucc[parStem] ? revThread[parStem] : lastSucc[stem];
            right = thread[u];
        }
        parent[uOut] = parStem;
        thread[u] = last;
        revThread[last] = u;
        lastSucc[uOut] = u;

        if (oldRevThread != vIn) {
            thread[oldRevThread] = right;
            revThread[right] = oldRevThread;
        }

        for (int k = 0; k < dirty; k++) {
            int x = dirtyRevs[k];
            revThread[thread[x]] = x;
        }

        int tmpSc = 0;
        int tmpLs = lastSucc[uOut];
        u = uOut;
        while (u != uIn) {
            int w = parent[u];
            pred[u] = pred[w];
            forward[u] = !forward[w];
            tmpSc += succNum[u] - succNum[w];
            succNum[u] = tmpSc;
            lastSucc[w] = tmpLs;
            u = w;
        }
        pred[uIn] = inArc;
        forward[uIn] = uIn == source(inArc);
        succNum[uIn] = oldSuccNum;

        int upLimitIn = -1;
        int upLimitOut = -1;
        if (lastSucc[join] == vIn) {
            upLimitOut = join;
        } else {
            upLimitIn = join;
        }

        for (u = vIn; u != upLimitIn && lastSucc[u] == vIn; u = parent[u]) {
            lastSucc[u] = lastSucc[uOut];
        }
        if (join != oldRevThread && vIn != oldRevThread) {
            for (u = vOut; u != upLimitOut && lastSucc[u] == oldLastSucc; u = parent[u]) {
                lastSucc[u] = oldRevThread;
            }
        } else {
            for (u = vOut; u != upLimitOut && lastSucc[u] == oldLastSucc; u = parent[u]) {
                lastSucc[u] = lastSucc[uOut];
            }
        }

        for (u = vIn; u != join; u = parent[u]) {
            succNum[u] += oldSuccNum;
        }
        for (u = vOut; u != join; u = parent[u]) {
            succNum[u] -= oldSuccNum;
        }
    }

    private void updatePotential() {
        int e = pred[uIn];
        double sigma = forward[uIn] ? pi[vIn] - pi[uIn] - costOf(e) : pi[vIn] - pi[uIn] + costOf(e);
        int end = thread[lastSucc[uIn]];
        for (int u = uIn; u != end; u = thread[u]) {
            pi[u] += sigma;
        }
    }

    private void finish(double[] a, double[] b) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += a[i];
        }
        double residual = 0;
        for (int u = 0; u < nodeNum; u++) {
            residual = Math.max(residual, Math.abs(flow[arcNum + u]));
            // artificial slots become real arcs of a later, larger problem: leave the buffer all zero
            flow[arcNum + u] = 0;
        }
        if (residual > 1e-12 * total) {
            flowDirty = true;
            throw new IllegalStateException(String.format(Locale.ROOT,
                "[mover] network simplex: infeasible, artificial flow [%s] remains", residual));
        }
        double sum = 0;
        double comp = 0;
        planSize = 0;
        for (int u = 0; u < nodeNum; u++) {
            int e = pred[u];
            if (e < arcNum) {
                double f = flow[e];
                if (f > 0) {
                    planRow[planSize] = e / m;
                    planCol[planSize] = e % m;
                    planFlow[planSize] = f;
                    planSize++;
                    double term = f * cost[e];
                    double t = sum + term;
                    comp += Math.abs(sum) >= Math.abs(term) ? (sum - t) + term : (term - t) + sum;
                    sum = t;
                }
                flow[e] = 0;
            }
        }
        flowDirty = false;
        distance = sum + comp;
    }

    /** Optimal value of the last solve. */
    public double distance() {
        return distance;
    }

    /** Number of pivots (including the heuristic initial ones) of the last solve. */
    public long pivots() {
        return pivots;
    }

    /** Number of positive flows in the optimal basic plan of the last solve (at most n + m - 1). */
    public int planSize() {
        return planSize;
    }

    /** Source index of the k-th positive flow of the plan. */
    public int planRow(int k) {
        return planRow[k];
    }

    /** Sink index of the k-th positive flow of the plan. */
    public int planCol(int k) {
        return planCol[k];
    }

    /** Amount of the k-th positive flow of the plan. */
    public double planFlow(int k) {
        return planFlow[k];
    }

    /**
     * Dual potential of source {@code i} after the last solve: with {@code u_i = dualSource(i)} and
     * {@code v_j = dualSink(j)}, {@code u_i + v_j <= C_ij} (up to the pivot tolerance) and
     * {@code sum a_i u_i + sum b_j v_j} equals the optimum, a certificate of optimality.
     */
    public double dualSource(int i) {
        return -pi[i];
    }

    /** Dual potential of sink {@code j}; see {@link #dualSource(int)}. */
    public double dualSink(int j) {
        return pi[n + j];
    }
}
