package dev.mover.bench.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mover.bench.eval.Rouge.Level;
import dev.mover.bench.eval.Rouge.Scores;
import java.util.List;
import org.junit.jupiter.api.Test;

class RougeTests {

    @Test
    void testTokens_whenWordLevel_thenLowerCasedAlphanumericRuns() {
        assertEquals(List.of("the", "cat", "s", "3", "14", "hat"), Rouge.tokens("The cat's 3.14 HAT!", Level.WORD));
    }

    @Test
    void testTokens_whenCharLevel_thenEveryNonSpaceCodePoint() {
        assertEquals(List.of("原", "告", "，", "𠀀", "A", "1"), Rouge.tokens("原告，\u3000𠀀 A1\n", Level.CHAR));
    }

    @Test
    void testWordLevel_whenHandWorkedExample_thenExpectedF1() {
        // reference: the cat was under the bed (6 tokens); candidate: the cat was found under the bed (7 tokens)
        // R1: overlap the x2, cat, was, under, bed = 6 -> P = 6/7, R = 6/6, F = 12/13
        // R2: ref bigrams the-cat, cat-was, was-under, under-the, the-bed; cand: the-cat, cat-was, was-found,
        //     found-under, under-the, the-bed -> overlap 4: P = 4/6, R = 4/5, F = 2*(2/3)(4/5)/((2/3)+(4/5)) = 8/11
        // RL: LCS = 6 (the cat was under the bed) -> same as R1: 12/13
        Scores s = Rouge.score("the cat was found under the bed", "the cat was under the bed", Level.WORD);
        assertEquals(12.0 / 13, s.rouge1(), 1e-12);
        assertEquals(8.0 / 11, s.rouge2(), 1e-12);
        assertEquals(12.0 / 13, s.rougeL(), 1e-12);
    }

    @Test
    void testWordLevel_whenReordered_thenRougeLBelowRouge1() {
        // ref: a b c d; cand: d c b a -> R1: 4/4 -> F = 1; R2: 0; LCS = 1 -> F = 1/4
        Scores s = Rouge.score("d c b a", "A B C D", Level.WORD);
        assertEquals(1.0, s.rouge1(), 1e-12);
        assertEquals(0.0, s.rouge2(), 0);
        assertEquals(0.25, s.rougeL(), 1e-12);
        // clipping: cand "a a a a" vs ref "a b": overlap min(4,1) = 1 -> P = 1/4, R = 1/2, F = 1/3
        assertEquals(1.0 / 3, Rouge.score("a a a a", "a b", Level.WORD).rouge1(), 1e-12);
    }

    @Test
    void testCharLevel_whenChineseExample_thenExpectedF1AndCailScore() {
        // ref: 被告支付货款 (6 chars); cand: 被告应支付 (5 chars)
        // R1: overlap 被 告 支 付 = 4 -> P = 4/5, R = 4/6, F = 2*(.8)(.6667)/(1.4667) = 8/11
        // R2: ref 被告 告支 支付 付货 货款; cand 被告 告应 应支 支付 -> overlap 2 -> P = 2/4, R = 2/5, F = 4/9
        // RL: LCS 被告支付 = 4 -> 8/11
        Scores s = Rouge.score("被告应支付", "被告支付货款", Level.CHAR);
        assertEquals(8.0 / 11, s.rouge1(), 1e-12);
        assertEquals(4.0 / 9, s.rouge2(), 1e-12);
        assertEquals(8.0 / 11, s.rougeL(), 1e-12);
        assertEquals(0.2 * 8 / 11 + 0.4 * 4 / 9 + 0.4 * 8 / 11, s.cail(), 1e-12);
    }

    @Test
    void testEmpty_thenZero() {
        Scores s = Rouge.score("", "something here", Level.WORD);
        assertEquals(0.0, s.rouge1(), 0);
        assertEquals(0.0, s.rougeL(), 0);
        assertEquals(0.0, Rouge.score("x", "x", Level.CHAR).rouge2(), 0);
    }

    @Test
    void testLcs_thenClassicExample() {
        // ABCBDAB vs BDCABA: LCS length 4 (CLRS)
        assertEquals(4, Rouge.lcs(Rouge.tokens("ABCBDAB", Level.CHAR), Rouge.tokens("BDCABA", Level.CHAR)));
    }
}
