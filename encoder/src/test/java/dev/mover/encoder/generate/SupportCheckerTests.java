package dev.mover.encoder.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SupportCheckerTests {

    @Test
    void testTerms_whenMixedScripts_thenWordsAndCharacters() {
        assertEquals(List.of("the", "court", "法", "院", "ruled", "2019", "年"),
            SupportChecker.terms("The court, 法院 ruled (2019年)."));
    }

    @Test
    void testCheck_whenEnglish_thenWordBigramShare() {
        SupportChecker c = new SupportChecker("The quick brown fox jumps over the lazy dog.", 0.5);
        List<SentenceSupport> s = c.check("The quick brown fox sleeps. A lazy cat jumps over the moon!");
        assertEquals(2, s.size());
        // the quick / quick brown / brown fox found, fox sleeps not: 3 of 4
        assertEquals(0.75, s.get(0).overlap(), 1e-12);
        assertEquals(4, s.get(0).ngrams());
        assertTrue(s.get(0).supported());
        // a lazy, lazy cat, cat jumps, jumps over (found), over the (found), the moon: 2 of 6
        assertEquals(2.0 / 6, s.get(1).overlap(), 1e-12);
        assertFalse(s.get(1).supported());
    }

    @Test
    void testCheck_whenChinese_thenCharacterBigramShare() {
        SupportChecker c = new SupportChecker("法院判决被告归还借款。", 0.5);
        List<SentenceSupport> s = c.check("法院判决被告归还。原告撤回起诉。");
        assertEquals(1.0, s.get(0).overlap(), 1e-12);
        assertEquals(0.0, s.get(1).overlap(), 1e-12);
        assertFalse(s.get(1).supported());
    }

    @Test
    void testCheck_whenSingleTermOrPunctuation_thenUnigramOrSupported() {
        SupportChecker c = new SupportChecker("Budget approved.", 0.5);
        List<SentenceSupport> s = c.check("Approved! Rejected! ...");
        assertTrue(s.get(0).supported());
        assertFalse(s.get(1).supported());
        assertEquals(1, s.get(1).ngrams());
    }

    @Test
    void testThreshold_whenOutOfRange_thenRejected() {
        assertEquals("[support_threshold] must be in [0, 1] but was [1.5]",
            assertThrows(IllegalArgumentException.class, () -> new SupportChecker("x", 1.5)).getMessage());
    }
}
