package dev.mover.plugin;

import dev.mover.scoring.TokenMatrix;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.Term;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Token weights from the shard's term statistics of the source text field: each model token gets the BM25 idf
 * {@code ln(1 + (N - df + 0.5) / (df + 0.5))} of the analyzed term whose characters it overlaps most, so frequent
 * words weigh less. Tokens that no term covers (punctuation, removed stop words) get the smallest possible idf,
 * that of a term found in every document. With {@code normTimesIdf} the weight is also multiplied by the token
 * vector's norm (WRD's own weighting).
 */
final class IdfWeights {
    private final String field;
    private final Analyzer analyzer;
    private final IndexReader reader;
    private final long docCount;
    private final double floor;
    private final boolean normTimesIdf;
    private final Map<String, Double> cache = new HashMap<>();

    IdfWeights(String field, Analyzer analyzer, IndexReader reader, boolean normTimesIdf) throws IOException {
        this.field = field;
        this.analyzer = analyzer;
        this.reader = reader;
        this.docCount = Math.max(1, reader.getDocCount(field));
        this.floor = idf(docCount);
        this.normTimesIdf = normTimesIdf;
    }

    private double idf(long df) {
        return Math.log(1.0 + (docCount - df + 0.5) / (df + 0.5));
    }

    private double termIdf(String term) {
        return cache.computeIfAbsent(term, t -> {
            try {
                return idf(reader.docFreq(new Term(field, t)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** One weight per token of {@code vectors}, whose character spans into {@code text} are {@code starts} / {@code ends}. */
    double[] weights(String text, int[] starts, int[] ends, TokenMatrix vectors) {
        List<int[]> spans = new ArrayList<>();
        List<String> terms = new ArrayList<>();
        try (TokenStream ts = analyzer.tokenStream(field, text)) {
            CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
            OffsetAttribute off = ts.addAttribute(OffsetAttribute.class);
            ts.reset();
            while (ts.incrementToken()) {
                spans.add(new int[] { off.startOffset(), off.endOffset() });
                terms.add(term.toString());
            }
            ts.end();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double[] w = new double[starts.length];
        int j = 0;
        for (int i = 0; i < starts.length; i++) {
            while (j < spans.size() && spans.get(j)[1] <= starts[i]) {
                j++;
            }
            double best = 0;
            String bestTerm = null;
            for (int k = j; k < spans.size() && spans.get(k)[0] < ends[i]; k++) {
                int overlap = Math.min(ends[i], spans.get(k)[1]) - Math.max(starts[i], spans.get(k)[0]);
                if (overlap > best) {
                    best = overlap;
                    bestTerm = terms.get(k);
                }
            }
            double idf = bestTerm == null ? floor : termIdf(bestTerm);
            if (normTimesIdf) {
                double n = 0;
                for (int c = 0; c < vectors.dims(); c++) {
                    double x = vectors.get(i, c);
                    n += x * x;
                }
                idf *= Math.sqrt(n);
            }
            w[i] = idf;
        }
        return w;
    }
}
