package dev.mover.scoring;

/** Growth policy for workspace buffers (about 1/8 headroom, like Lucene's {@code ArrayUtil.oversize}). */
final class ArraysUtil {
    private ArraysUtil() {}

    static int oversize(int minSize) {
        long grown = (long) minSize + (minSize >> 3) + 8;
        return (int) Math.min(grown, Integer.MAX_VALUE - 16);
    }

    static double[] grow(double[] a, int minSize) {
        return a.length >= minSize ? a : new double[oversize(minSize)];
    }

    static float[] grow(float[] a, int minSize) {
        return a.length >= minSize ? a : new float[oversize(minSize)];
    }

    static int[] grow(int[] a, int minSize) {
        return a.length >= minSize ? a : new int[oversize(minSize)];
    }
}
