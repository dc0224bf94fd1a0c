package dev.mover.encoder.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Beam search over a {@link StepModel} with the steps of {@link DecodingOptions} (copy bias, repetition blocking,
 * minimum length, sparse top-k softmax). Pure Java; one instance per call (it holds the call's state).
 */
final class BeamSearch {

    /** The model seen by the search: logits of the next token for each live beam. */
    interface StepModel {
        /**
         * @param parents   for each beam of this step, the index of the beam of the previous step it extends
         *                  ({@code null} on the first step, which has one beam)
         * @param sequences for each beam, its tokens so far including the decoder start token
         * @return logits, one row of the vocabulary size per beam
         */
        float[][] next(int[] parents, int[][] sequences);
    }

    /** Thrown by a {@link StepModel} whose model run was cut by the time limit; the search stops with TIME. */
    static final class StepTimedOut extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StepTimedOut(Throwable cause) {
            super("decoder step cut by the time limit", cause);
        }
    }

    /** A hypothesis: generated tokens (without the start token; with eos when it ended). */
    record Hypothesis(int[] tokens, double logProb, double score, boolean ended) {}

    /**
     * The search's outcome: hypotheses sorted by score (best first), why it stopped, model steps run, and in how
     * many steps the beams were reordered (some beam continued another beam than the one at its index).
     */
    record Outcome(List<Hypothesis> hypotheses, GenerationResult.StopReason stopReason, int steps, int reorders) {
        Hypothesis best() {
            return hypotheses.get(0);
        }
    }

    private final DecodingOptions opt;
    private final int startToken;
    private final int eosToken;
    private final Map<Integer, int[]> successors;
    private final LongSupplier clock;

    /**
     * @param sourceIds the source's content token ids (for the copy bias)
     * @param clock     nanosecond clock (System::nanoTime outside tests)
     */
    BeamSearch(DecodingOptions opt, int startToken, int eosToken, int[] sourceIds, LongSupplier clock) {
        this.opt = opt;
        this.startToken = startToken;
        this.eosToken = eosToken;
        this.clock = clock;
        Map<Integer, List<Integer>> succ = new HashMap<>();
        for (int i = 0; i + 1 < sourceIds.length; i++) {
            List<Integer> l = succ.computeIfAbsent(sourceIds[i], k -> new ArrayList<>());
            if (!l.contains(sourceIds[i + 1])) {
                l.add(sourceIds[i + 1]);
            }
        }
        this.successors = new HashMap<>();
        succ.forEach((k, v) -> successors.put(k, v.stream().mapToInt(Integer::intValue).toArray()));
    }

    /**
     * Runs the search.
     *
     * @param maxNewTokens  tokens generated at most per hypothesis
     * @param deadlineNanos the clock value after which no further model step starts
     */
    Outcome run(StepModel model, int maxNewTokens, long deadlineNanos) {
        int[][] seqs = {{startToken}};
        double[] cum = {0};
        int[] parents = null;
        List<Hypothesis> finished = new ArrayList<>();
        int steps = 0;
        int reorders = 0;
        GenerationResult.StopReason reason = null;
        double[] z = null;
        while (true) {
            int generated = seqs[0].length - 1;
            if (generated >= maxNewTokens) {
                reason = GenerationResult.StopReason.MAX_TOKENS;
                break;
            }
            if (clock.getAsLong() - deadlineNanos >= 0) {
                reason = GenerationResult.StopReason.TIME;
                break;
            }
            float[][] logits;
            try {
                logits = model.next(parents, seqs);
            } catch (StepTimedOut e) {
                reason = GenerationResult.StopReason.TIME;
                break;
            }
            steps++;
            int beams = seqs.length;
            int k = opt.topK();
            // candidates: beam, token, cumulative log-prob
            int[] candBeam = new int[beams * k];
            int[] candTok = new int[beams * k];
            double[] candScore = new double[beams * k];
            int nc = 0;
            int[] topIdx = new int[k];
            double[] topVal = new double[k];
            for (int b = 0; b < beams; b++) {
                float[] row = logits[b];
                if (z == null || z.length != row.length) {
                    z = new double[row.length];
                }
                for (int v = 0; v < row.length; v++) {
                    z[v] = row[v];
                }
                adjust(z, seqs[b], generated);
                int m = topK(z, k, topIdx, topVal);
                if (m == 0) {
                    continue;
                }
                double lse = logSumExp(topVal, m);
                for (int i = 0; i < m; i++) {
                    candBeam[nc] = b;
                    candTok[nc] = topIdx[i];
                    candScore[nc] = cum[b] + (topVal[i] - lse);
                    nc++;
                }
            }
            if (nc == 0) {
                reason = GenerationResult.StopReason.END;
                break;
            }
            Integer[] order = new Integer[nc];
            for (int i = 0; i < nc; i++) {
                order[i] = i;
            }
            final double[] cs = candScore;
            Arrays.sort(order, (a, c) -> Double.compare(cs[c], cs[a]));
            List<int[]> nextSeqs = new ArrayList<>();
            List<Double> nextCum = new ArrayList<>();
            List<Integer> nextParents = new ArrayList<>();
            for (int r = 0; r < nc && nextSeqs.size() < opt.numBeams(); r++) {
                int c = order[r];
                int[] parentSeq = seqs[candBeam[c]];
                if (candTok[c] == eosToken) {
                    if (r < opt.numBeams()) {
                        int[] toks = Arrays.copyOfRange(parentSeq, 1, parentSeq.length + 1);
                        toks[toks.length - 1] = eosToken;
                        finished.add(new Hypothesis(toks, candScore[c], normalize(candScore[c], toks.length), true));
                    }
                    continue;
                }
                int[] s = Arrays.copyOf(parentSeq, parentSeq.length + 1);
                s[parentSeq.length] = candTok[c];
                nextSeqs.add(s);
                nextCum.add(candScore[c]);
                nextParents.add(candBeam[c]);
            }
            if (nextSeqs.isEmpty()) {
                reason = GenerationResult.StopReason.END;
                break;
            }
            boolean wasOne = seqs.length == 1;
            seqs = nextSeqs.toArray(new int[0][]);
            cum = nextCum.stream().mapToDouble(Double::doubleValue).toArray();
            parents = nextParents.stream().mapToInt(Integer::intValue).toArray();
            for (int b = 0; b < parents.length && !wasOne; b++) {
                if (parents[b] != b) {
                    reorders++;
                    break;
                }
            }
            if (done(finished, cum[0], seqs[0].length - 1)) {
                reason = GenerationResult.StopReason.END;
                break;
            }
        }
        if (reason != GenerationResult.StopReason.END || finished.isEmpty()) {
            // cut by a limit (or nothing ended): the live beams compete as they are
            for (int b = 0; b < seqs.length; b++) {
                int[] toks = Arrays.copyOfRange(seqs[b], 1, seqs[b].length);
                if (toks.length > 0) {
                    finished.add(new Hypothesis(toks, cum[b], normalize(cum[b], toks.length), false));
                }
            }
        }
        finished.sort((a, b) -> Double.compare(b.score(), a.score()));
        if (finished.isEmpty()) {
            finished.add(new Hypothesis(new int[0], 0, 0, false));
        }
        if (reason == GenerationResult.StopReason.END && !finished.get(0).ended()) {
            reason = GenerationResult.StopReason.MAX_TOKENS;
        }
        if (reason != GenerationResult.StopReason.END && finished.get(0).ended()) {
            reason = GenerationResult.StopReason.END;
        }
        return new Outcome(List.copyOf(finished), reason, steps, reorders);
    }

    /** Whether the search can stop: enough finished hypotheses and the best live beam cannot beat the worst. */
    private boolean done(List<Hypothesis> finished, double bestLiveCum, int len) {
        if (finished.size() < opt.numBeams()) {
            return false;
        }
        finished.sort((a, b) -> Double.compare(b.score(), a.score()));
        while (finished.size() > opt.numBeams()) {
            finished.remove(finished.size() - 1);
        }
        double worst = finished.get(finished.size() - 1).score();
        return normalize(bestLiveCum, Math.max(1, len)) <= worst;
    }

    private double normalize(double logProb, int len) {
        return logProb / Math.pow(len, opt.lengthPenalty());
    }

    /** Copy bias, repetition blocking and minimum length on one beam's logits. */
    void adjust(double[] z, int[] seq, int generated) {
        if (opt.copyBias() > 0 && generated > 0) {
            int[] next = successors.get(seq[seq.length - 1]);
            if (next != null) {
                for (int t : next) {
                    if (t < z.length) {
                        z[t] += opt.copyBias();
                    }
                }
            }
        }
        int n = opt.noRepeatNgramSize();
        if (n > 0 && generated >= n - 1) {
            // generated tokens are seq[1..]; the n-1 last ones form the prefix of a would-be n-gram
            int len = seq.length;
            for (int i = 1; i + n - 1 <= len - 1; i++) {
                boolean same = true;
                for (int j = 0; j < n - 1; j++) {
                    if (seq[i + j] != seq[len - (n - 1) + j]) {
                        same = false;
                        break;
                    }
                }
                if (same) {
                    int t = seq[i + n - 1];
                    if (t < z.length) {
                        z[t] = Double.NEGATIVE_INFINITY;
                    }
                }
            }
        }
        if (generated < opt.minNewTokens() && eosToken < z.length) {
            z[eosToken] = Double.NEGATIVE_INFINITY;
        }
    }

    /** The {@code k} largest finite values of {@code z}, descending (ties to the lower index); returns how many. */
    static int topK(double[] z, int k, int[] idx, double[] val) {
        int m = 0;
        for (int v = 0; v < z.length; v++) {
            double x = z[v];
            if (x == Double.NEGATIVE_INFINITY || Double.isNaN(x)) {
                continue;
            }
            if (m == k && x <= val[m - 1]) {
                continue;
            }
            int at = m < k ? m++ : m - 1;
            while (at > 0 && val[at - 1] < x) {
                val[at] = val[at - 1];
                idx[at] = idx[at - 1];
                at--;
            }
            val[at] = x;
            idx[at] = v;
        }
        return m;
    }

    static double logSumExp(double[] v, int m) {
        double max = v[0];
        double s = 0;
        for (int i = 0; i < m; i++) {
            s += Math.exp(v[i] - max);
        }
        return max + Math.log(s);
    }
}
