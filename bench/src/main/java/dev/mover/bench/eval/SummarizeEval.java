package dev.mover.bench.eval;

import dev.mover.encoder.EncodedText;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.summarize.RelevanceScorer;
import dev.mover.encoder.summarize.SentenceEmbedder;
import dev.mover.encoder.summarize.Summarizer;
import dev.mover.encoder.summarize.Summarizer.Budget;
import dev.mover.encoder.summarize.Summarizer.Mode;
import dev.mover.encoder.summarize.Summarizer.Summary;
import dev.mover.encoder.text.Span;
import dev.mover.scoring.Metric;
import dev.mover.scoring.OtScorer;
import dev.mover.scoring.TokenMatrix;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./mover eval summarize}: ROUGE-1/2/L F1, the CAIL2020 score and extract-stage recall of the salient labels
 * for {@code lead}, {@code extract} and {@code compressive}, all x 100.
 *
 * <p>Rules, fixed in advance: every mode gets the same budget per item, the reference summary's length in
 * characters (the usual length-matched comparison; capped at {@link Summarizer#MAX_BUDGET_CHARS}); ROUGE is
 * character-level for Chinese sets and word-level for English ones (language detected from the documents); the query
 * of query-based sets is always passed; the summarizer runs with its default constants (λ = 0.7, query weight 0.7)
 * and reads whole documents (max characters read 2,000,000, max units 50,000). Extract recall = salient
 * non-whitespace characters covered by the selected units / all salient non-whitespace characters, averaged over the
 * items that have labels. Each non-lead figure's note carries the paired bootstrap 95% interval of its mean minus
 * lead's. On sets with queries, {@code extract-rwmd} is the extract stage with the token-level query relevance
 * {@code 1 − RWMD(query → unit)} ({@link RwmdRelevance}) in place of the pooled cosine. No generator can be
 * downloaded here, so no {@code generate-<name>} rows are produced.
 */
final class SummarizeEval {

    /** A system of the table: a summarizer mode, with the token-level query relevance or not. */
    private record Sys(String name, Mode mode, boolean rwmd) {}

    private static final Sys[] SYSTEMS = {new Sys("lead", Mode.LEAD, false), new Sys("extract", Mode.EXTRACT, false),
        new Sys("compressive", Mode.COMPRESSIVE, false), new Sys("extract-rwmd", Mode.EXTRACT, true)};
    private static final String[] METRICS = {"rouge1", "rouge2", "rougeL", "cail_score", "extract_recall"};

    private final EvalCli.Options opt;
    private final Figures figures;
    private final Models models;
    /** One memoising embedder per language, shared by the data sets of a run (segments and meetings share text). */
    private final Map<Lang, CachingEmbedder> embedders = new java.util.EnumMap<>(Lang.class);

    SummarizeEval(EvalCli.Options opt, Figures figures, Models models) {
        this.opt = opt;
        this.figures = figures;
        this.models = models;
    }

    int run() throws IOException {
        List<SummData.DataSet> sets = SummData.read(opt.data(), opt.limit());
        if (sets.isEmpty()) {
            System.err.println("[eval summarize] no summarization layout recognised in [" + opt.data() + "]");
            return 1;
        }
        for (SummData.DataSet set : sets) {
            if (!opt.only().isEmpty() && !opt.only().contains(set.name())) {
                continue;
            }
            evaluate(set);
        }
        return 0;
    }

    /**
     * Memoising embedder over the encoder's pooled vectors (bounded so that memory stays flat); it also keeps the token
     * vectors of the texts encoded since the last {@link #newDocument()} for the token-level relevance.
     */
    static final class CachingEmbedder implements SentenceEmbedder {
        private static final int MAX_ENTRIES = 400_000;
        private final TextEncoder encoder;
        private final Map<String, float[]> cache = new HashMap<>();
        private final Map<String, TokenMatrix> tokens = new HashMap<>();
        long tokenCount;
        long encodeNanos;

        CachingEmbedder(TextEncoder encoder) {
            this.encoder = encoder;
        }

        /** Drops the token vectors kept for the previous document. */
        void newDocument() {
            tokens.clear();
        }

        @Override
        public float[][] embed(List<String> texts) {
            java.util.LinkedHashSet<String> missSet = new java.util.LinkedHashSet<>();
            for (String t : texts) {
                if (!cache.containsKey(t)) {
                    missSet.add(t);
                }
            }
            encode(new ArrayList<>(missSet));
            float[][] res = new float[texts.size()][];
            for (int i = 0; i < texts.size(); i++) {
                res[i] = cache.get(texts.get(i));
            }
            return res;
        }

        /** Token vectors of {@code texts} (encoding those not kept for the current document). */
        List<TokenMatrix> tokens(List<String> texts) {
            java.util.LinkedHashSet<String> miss = new java.util.LinkedHashSet<>();
            for (String t : texts) {
                if (!tokens.containsKey(t)) {
                    miss.add(t);
                }
            }
            encode(new ArrayList<>(miss));
            List<TokenMatrix> out = new ArrayList<>(texts.size());
            for (String t : texts) {
                out.add(tokens.get(t));
            }
            return out;
        }

        private void encode(List<String> miss) {
            if (miss.isEmpty()) {
                return;
            }
            if (cache.size() + miss.size() > MAX_ENTRIES) {
                cache.clear();
            }
            long t0 = System.nanoTime();
            List<EncodedText> out = encoder.encodeBatch(miss);
            encodeNanos += System.nanoTime() - t0;
            for (int i = 0; i < miss.size(); i++) {
                EncodedText e = out.get(i);
                tokenCount += e.tokens();
                cache.put(miss.get(i), e.pooled());
                tokens.put(miss.get(i), TokenMatrix.of(e.vectors(), e.tokens(), e.dims()));
            }
        }
    }

    /**
     * Token-level query relevance for {@code extract-rwmd}: {@code 1 − RWMD(query → unit)} with WRD's cosine cost and
     * norm masses, i.e. the norm-weighted mean over query tokens of the best cosine in the unit (the one-sided relaxed
     * transport, which does not force the unit's mass onto the few query tokens).
     */
    static final class RwmdRelevance implements RelevanceScorer {
        private final CachingEmbedder embedder;
        private final TextEncoder encoder;
        private final OtScorer wrd = OtScorer.builder(Metric.WRD).build();

        RwmdRelevance(CachingEmbedder embedder, TextEncoder encoder) {
            this.embedder = embedder;
            this.encoder = encoder;
        }

        @Override
        public double[] score(String query, List<String> units) {
            double[] out = new double[units.size()];
            EncodedText q = encoder.encode(query);
            if (q.tokens() == 0) {
                return out;
            }
            OtScorer.Prepared pq = wrd.prepareQuery(TokenMatrix.of(q.vectors(), q.tokens(), q.dims()), null);
            List<TokenMatrix> toks = embedder.tokens(units);
            for (int i = 0; i < out.length; i++) {
                TokenMatrix u = toks.get(i);
                out[i] = u.rows() == 0 ? -1 : 1 - wrd.buildProblem(pq, u, null).rwmdQueryToDoc();
            }
            return out;
        }
    }

    private void evaluate(SummData.DataSet set) {
        TextEncoder enc = models.get(set.lang());
        Rouge.Level level = set.lang() == Lang.ZH ? Rouge.Level.CHAR : Rouge.Level.WORD;
        CachingEmbedder embedder = embedders.computeIfAbsent(set.lang(), l -> new CachingEmbedder(enc));
        long tokens0 = embedder.tokenCount;
        long encodeNanos0 = embedder.encodeNanos;
        Summarizer.Settings settings = Summarizer.Settings.DEFAULT.withMaxCharsRead(2_000_000).withMaxUnits(50_000);
        settings = new Summarizer.Settings(settings.maxCharsRead(), settings.maxUnits(), settings.lambda(), settings.queryWeight(),
            settings.minUnitChars(), settings.duplicateCosine(), 256, 0);
        Summarizer summarizer = new Summarizer(embedder, settings);
        Summarizer tokenLevel = new Summarizer(embedder, new RwmdRelevance(embedder, enc), settings);
        boolean anyQuery = set.items().stream().anyMatch(it -> it.query() != null && !it.query().isBlank());
        List<Sys> systems = new ArrayList<>();
        for (Sys sys : SYSTEMS) {
            if (!sys.rwmd() || anyQuery) {
                systems.add(sys);
            }
        }
        int n = set.items().size();
        Map<String, Map<String, double[]>> values = new LinkedHashMap<>();
        Map<String, long[]> lengths = new HashMap<>();
        for (Sys sys : systems) {
            Map<String, double[]> perMetric = new LinkedHashMap<>();
            for (String metric : METRICS) {
                double[] v = new double[n];
                java.util.Arrays.fill(v, Double.NaN);
                perMetric.put(metric, v);
            }
            values.put(sys.name(), perMetric);
            lengths.put(sys.name(), new long[1]);
        }
        long budgetTotal = 0;
        Progress progress = new Progress("summarize " + set.name() + " (" + enc.model().name() + ")", n);
        long t0 = System.nanoTime();
        String lastDoc = null;
        for (int i = 0; i < n; i++) {
            SummData.Item it = set.items().get(i);
            if (!it.doc().equals(lastDoc)) {
                embedder.newDocument();
                lastDoc = it.doc();
            }
            int budget = Math.max(1, Math.min(Summarizer.MAX_BUDGET_CHARS, it.ref().length()));
            budgetTotal += budget;
            for (Sys sys : systems) {
                Summary s = (sys.rwmd() ? tokenLevel : summarizer).summarize(it.doc(), it.query(), Budget.chars(budget), sys.mode());
                Rouge.Scores r = Rouge.score(s.text(), it.ref(), level);
                Map<String, double[]> v = values.get(sys.name());
                v.get("rouge1")[i] = 100 * r.rouge1();
                v.get("rouge2")[i] = 100 * r.rouge2();
                v.get("rougeL")[i] = 100 * r.rougeL();
                v.get("cail_score")[i] = 100 * r.cail();
                if (it.salient() != null && !it.salient().isEmpty()) {
                    v.get("extract_recall")[i] = 100 * coverage(it.doc(), it.salient(), s);
                }
                lengths.get(sys.name())[0] += s.units().stream().mapToInt(u -> u.span().length()).sum();
            }
            progress.update(i + 1);
        }
        progress.done();
        embedder.newDocument();
        double secs = (System.nanoTime() - t0) / 1e9;
        System.err.printf(Locale.ROOT, "[eval summarize] %s: %d items, %.1fs, %d tokens encoded in %.1fs%n",
            set.name(), n, secs, embedder.tokenCount - tokens0, (embedder.encodeNanos - encodeNanos0) / 1e9);
        Map<String, double[]> lead = values.get("lead");
        for (Sys sys : systems) {
            for (String metric : METRICS) {
                double[] v = values.get(sys.name()).get(metric);
                int[] idx = finite(v);
                if (idx.length == 0) {
                    continue;
                }
                double mean = mean(v, idx);
                List<String> notes = new ArrayList<>();
                if (metric.equals("cail_score")) {
                    notes.add(String.format(Locale.ROOT, "mean length %.0f chars, budget %.0f", (double) lengths.get(sys.name())[0] / n,
                        (double) budgetTotal / n));
                    if (sys.mode() == Mode.LEAD) {
                        notes.add("model " + enc.model().name() + ", " + (level == Rouge.Level.CHAR ? "char" : "word") + "-level ROUGE");
                    }
                }
                if (sys.mode() != Mode.LEAD && opt.bootstrap() > 0) {
                    double[] base = lead.get(metric);
                    double[] ci = RankMetrics.pairedBootstrap(idx.length, r -> {
                        double s = 0;
                        for (int k : r) {
                            s += v[idx[k]] - base[idx[k]];
                        }
                        return s / r.length;
                    }, opt.bootstrap(), 1);
                    notes.add(String.format(Locale.ROOT, "minus lead %+.2f, 95%% CI [%.2f, %.2f]", mean - mean(base, idx), ci[0], ci[1]));
                }
                figures.add("summarize", set.name(), sys.name(), metric, mean, idx.length, notes.isEmpty() ? null : String.join("; ", notes));
            }
        }
    }

    /** Share of the salient non-whitespace characters covered by the summary's units. */
    static double coverage(String doc, List<Span> salient, Summary s) {
        boolean[] sal = new boolean[doc.length()];
        for (Span sp : salient) {
            for (int k = sp.start(); k < sp.end(); k++) {
                sal[k] = !Character.isWhitespace(doc.charAt(k));
            }
        }
        boolean[] sel = new boolean[doc.length()];
        for (Summarizer.Unit u : s.units()) {
            for (int k = u.span().start(); k < u.span().end(); k++) {
                sel[k] = true;
            }
        }
        long total = 0;
        long hit = 0;
        for (int k = 0; k < sal.length; k++) {
            if (sal[k]) {
                total++;
                if (sel[k]) {
                    hit++;
                }
            }
        }
        return total == 0 ? Double.NaN : (double) hit / total;
    }

    private static int[] finite(double[] v) {
        return java.util.stream.IntStream.range(0, v.length).filter(i -> !Double.isNaN(v[i])).toArray();
    }

    private static double mean(double[] v, int[] idx) {
        double s = 0;
        for (int i : idx) {
            s += v[i];
        }
        return s / idx.length;
    }
}
