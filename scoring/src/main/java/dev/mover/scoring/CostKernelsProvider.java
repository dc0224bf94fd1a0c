package dev.mover.scoring;

/**
 * Picks the cost kernels once per JVM, Lucene-style: the Panama Vector API implementation
 * ({@code PanamaCostKernels}, compiled against {@code jdk.incubator.vector}) when that module is in the boot layer
 * and the class loads and passes a self-check against the scalar code; otherwise the scalar implementation. Inside
 * Elasticsearch on JDK 17 the incubator module is absent, so the scalar path is used there. Set the system property
 * {@code mover.simd=false} to force the scalar path.
 */
final class CostKernelsProvider {
    private static final CostKernels INSTANCE = load();

    private CostKernelsProvider() {}

    static CostKernels get() {
        return INSTANCE;
    }

    static CostKernels scalar() {
        return ScalarCostKernels.INSTANCE;
    }

    /** The vectorised kernels, or null if unavailable in this JVM. */
    static CostKernels panamaOrNull() {
        if (!ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            return null;
        }
        try {
            Class<?> cls = Class.forName("dev.mover.scoring.PanamaCostKernels");
            CostKernels k = (CostKernels) cls.getDeclaredConstructor().newInstance();
            return selfCheck(k) ? k : null;
        } catch (LinkageError | ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    private static CostKernels load() {
        if ("false".equals(System.getProperty("mover.simd"))) {
            return ScalarCostKernels.INSTANCE;
        }
        CostKernels k = panamaOrNull();
        return k != null ? k : ScalarCostKernels.INSTANCE;
    }

    private static boolean selfCheck(CostKernels k) {
        int n = 5, m = 7, d = 13;
        double[] x = new double[n * d];
        double[] y = new double[m * d];
        for (int t = 0; t < x.length; t++) {
            x[t] = Math.sin(t + 1.0);
        }
        for (int t = 0; t < y.length; t++) {
            y[t] = Math.cos(t * 0.7);
        }
        double[] a = new double[n * m];
        double[] b = new double[n * m];
        k.euclidean(x, n, y, m, d, a);
        ScalarCostKernels.INSTANCE.euclidean(x, n, y, m, d, b);
        for (int t = 0; t < a.length; t++) {
            if (!(Math.abs(a[t] - b[t]) <= 1e-12)) {
                return false;
            }
        }
        k.dot(x, n, y, m, d, a);
        ScalarCostKernels.INSTANCE.dot(x, n, y, m, d, b);
        for (int t = 0; t < a.length; t++) {
            if (!(Math.abs(a[t] - b[t]) <= 1e-12)) {
                return false;
            }
        }
        // float rows widen exactly: the same bits as the double kernels on the widened copy
        float[] yf = new float[y.length];
        double[] yw = new double[y.length];
        for (int t = 0; t < y.length; t++) {
            yf[t] = (float) y[t];
            yw[t] = yf[t];
        }
        k.euclidean(x, n, yf, m, d, a);
        k.euclidean(x, n, yw, m, d, b);
        if (!java.util.Arrays.equals(a, b)) {
            return false;
        }
        k.dot(x, n, yf, m, d, a);
        k.dot(x, n, yw, m, d, b);
        if (!java.util.Arrays.equals(a, b)) {
            return false;
        }
        if (k.sumSquares(yf, d, d, null) != k.sumSquares(yw, d, d, null)
            || !(Math.abs(k.sumSquares(yw, d, d, null) - ScalarCostKernels.INSTANCE.sumSquares(yw, d, d, null)) <= 1e-12)) {
            return false;
        }
        byte[] codes = new byte[2 * d + 3];
        for (int t = 0; t < codes.length; t++) {
            codes[t] = (byte) (t * 37 % 255 - 127);
        }
        float[] qa = new float[2 * d];
        float[] qb = new float[2 * d];
        boolean okA = k.dequantizeInt8(codes, 3, 2 * d, 0.37f, qa, 0);
        boolean okB = ScalarCostKernels.INSTANCE.dequantizeInt8(codes, 3, 2 * d, 0.37f, qb, 0);
        return okA && okB && java.util.Arrays.equals(qa, qb);
    }
}
