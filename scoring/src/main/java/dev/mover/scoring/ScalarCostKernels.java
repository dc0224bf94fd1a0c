package dev.mover.scoring;

/** Portable scalar kernels: 2 x 2 register blocking so the JIT keeps four accumulators in registers. */
final class ScalarCostKernels implements CostKernels {
    static final ScalarCostKernels INSTANCE = new ScalarCostKernels();

    @Override
    public void euclidean(double[] x, int n, double[] y, int m, int d, double[] out) {
        int i = 0;
        for (; i + 1 < n; i += 2) {
            int x0 = i * d;
            int x1 = x0 + d;
            int j = 0;
            for (; j + 1 < m; j += 2) {
                int y0 = j * d;
                int y1 = y0 + d;
                double s00 = 0, s01 = 0, s10 = 0, s11 = 0;
                for (int k = 0; k < d; k++) {
                    double a0 = x[x0 + k];
                    double a1 = x[x1 + k];
                    double b0 = y[y0 + k];
                    double b1 = y[y1 + k];
                    double t00 = a0 - b0, t01 = a0 - b1, t10 = a1 - b0, t11 = a1 - b1;
                    s00 += t00 * t00;
                    s01 += t01 * t01;
                    s10 += t10 * t10;
                    s11 += t11 * t11;
                }
                out[i * m + j] = Math.sqrt(s00);
                out[i * m + j + 1] = Math.sqrt(s01);
                out[(i + 1) * m + j] = Math.sqrt(s10);
                out[(i + 1) * m + j + 1] = Math.sqrt(s11);
            }
            for (; j < m; j++) {
                out[i * m + j] = Math.sqrt(sqDist(x, x0, y, j * d, d));
                out[(i + 1) * m + j] = Math.sqrt(sqDist(x, x1, y, j * d, d));
            }
        }
        for (; i < n; i++) {
            for (int j = 0; j < m; j++) {
                out[i * m + j] = Math.sqrt(sqDist(x, i * d, y, j * d, d));
            }
        }
    }

    static double sqDist(double[] x, int xo, double[] y, int yo, int d) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            double t = x[xo + k] - y[yo + k];
            s += t * t;
        }
        return s;
    }

    static double dot(double[] x, int xo, double[] y, int yo, int d) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            s += x[xo + k] * y[yo + k];
        }
        return s;
    }

    @Override
    public void dot(double[] x, int n, double[] y, int m, int d, double[] out) {
        int i = 0;
        for (; i + 1 < n; i += 2) {
            int x0 = i * d;
            int x1 = x0 + d;
            int j = 0;
            for (; j + 1 < m; j += 2) {
                int y0 = j * d;
                int y1 = y0 + d;
                double s00 = 0, s01 = 0, s10 = 0, s11 = 0;
                for (int k = 0; k < d; k++) {
                    double a0 = x[x0 + k];
                    double a1 = x[x1 + k];
                    double b0 = y[y0 + k];
                    double b1 = y[y1 + k];
                    s00 += a0 * b0;
                    s01 += a0 * b1;
                    s10 += a1 * b0;
                    s11 += a1 * b1;
                }
                out[i * m + j] = s00;
                out[i * m + j + 1] = s01;
                out[(i + 1) * m + j] = s10;
                out[(i + 1) * m + j + 1] = s11;
            }
            for (; j < m; j++) {
                out[i * m + j] = dot(x, x0, y, j * d, d);
                out[(i + 1) * m + j] = dot(x, x1, y, j * d, d);
            }
        }
        for (; i < n; i++) {
            for (int j = 0; j < m; j++) {
                out[i * m + j] = dot(x, i * d, y, j * d, d);
            }
        }
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void euclidean(double[] x, int n, float[] y, int m, int d, double[] out) {
        int i = 0;
        for (; i + 1 < n; i += 2) {
            int x0 = i * d;
            int x1 = x0 + d;
            int j = 0;
            for (; j + 1 < m; j += 2) {
                int y0 = j * d;
                int y1 = y0 + d;
                double s00 = 0, s01 = 0, s10 = 0, s11 = 0;
                for (int k = 0; k < d; k++) {
                    double a0 = x[x0 + k];
                    double a1 = x[x1 + k];
                    double b0 = y[y0 + k];
                    double b1 = y[y1 + k];
                    double t00 = a0 - b0, t01 = a0 - b1, t10 = a1 - b0, t11 = a1 - b1;
                    s00 += t00 * t00;
                    s01 += t01 * t01;
                    s10 += t10 * t10;
                    s11 += t11 * t11;
                }
                out[i * m + j] = Math.sqrt(s00);
                out[i * m + j + 1] = Math.sqrt(s01);
                out[(i + 1) * m + j] = Math.sqrt(s10);
                out[(i + 1) * m + j + 1] = Math.sqrt(s11);
            }
            for (; j < m; j++) {
                out[i * m + j] = Math.sqrt(sqDistF(x, x0, y, j * d, d));
                out[(i + 1) * m + j] = Math.sqrt(sqDistF(x, x1, y, j * d, d));
            }
        }
        for (; i < n; i++) {
            for (int j = 0; j < m; j++) {
                out[i * m + j] = Math.sqrt(sqDistF(x, i * d, y, j * d, d));
            }
        }
    }

    static double sqDistF(double[] x, int xo, float[] y, int yo, int d) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            double t = x[xo + k] - y[yo + k];
            s += t * t;
        }
        return s;
    }

    static double dotF(double[] x, int xo, float[] y, int yo, int d) {
        double s = 0;
        for (int k = 0; k < d; k++) {
            s += x[xo + k] * y[yo + k];
        }
        return s;
    }

    @Override
    public void dot(double[] x, int n, float[] y, int m, int d, double[] out) {
        int i = 0;
        for (; i + 1 < n; i += 2) {
            int x0 = i * d;
            int x1 = x0 + d;
            int j = 0;
            for (; j + 1 < m; j += 2) {
                int y0 = j * d;
                int y1 = y0 + d;
                double s00 = 0, s01 = 0, s10 = 0, s11 = 0;
                for (int k = 0; k < d; k++) {
                    double a0 = x[x0 + k];
                    double a1 = x[x1 + k];
                    double b0 = y[y0 + k];
                    double b1 = y[y1 + k];
                    s00 += a0 * b0;
                    s01 += a0 * b1;
                    s10 += a1 * b0;
                    s11 += a1 * b1;
                }
                out[i * m + j] = s00;
                out[i * m + j + 1] = s01;
                out[(i + 1) * m + j] = s10;
                out[(i + 1) * m + j + 1] = s11;
            }
            for (; j < m; j++) {
                out[i * m + j] = dotF(x, x0, y, j * d, d);
                out[(i + 1) * m + j] = dotF(x, x1, y, j * d, d);
            }
        }
        for (; i < n; i++) {
            for (int j = 0; j < m; j++) {
                out[i * m + j] = dotF(x, i * d, y, j * d, d);
            }
        }
    }

    @Override
    public double sumSquares(float[] v, int off, int d, double[] addTo) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int c = 0;
        for (; c + 3 < d; c += 4) {
            double v0 = v[off + c], v1 = v[off + c + 1], v2 = v[off + c + 2], v3 = v[off + c + 3];
            s0 += v0 * v0;
            s1 += v1 * v1;
            s2 += v2 * v2;
            s3 += v3 * v3;
        }
        for (; c < d; c++) {
            double t = v[off + c];
            s0 += t * t;
        }
        if (addTo != null) {
            for (int k = 0; k < d; k++) {
                addTo[k] += v[off + k];
            }
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public double sumSquares(double[] v, int off, int d, double[] addTo) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int c = 0;
        for (; c + 3 < d; c += 4) {
            double v0 = v[off + c], v1 = v[off + c + 1], v2 = v[off + c + 2], v3 = v[off + c + 3];
            s0 += v0 * v0;
            s1 += v1 * v1;
            s2 += v2 * v2;
            s3 += v3 * v3;
        }
        for (; c < d; c++) {
            double t = v[off + c];
            s0 += t * t;
        }
        if (addTo != null) {
            for (int k = 0; k < d; k++) {
                addTo[k] += v[off + k];
            }
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public boolean dequantizeInt8(byte[] src, int off, int d, float scale, float[] out, int outOff) {
        for (int k = 0; k < d; k++) {
            byte q = src[off + k];
            if (q == Byte.MIN_VALUE) {
                return false;
            }
            out[outOff + k] = q * scale;
        }
        return true;
    }
}
