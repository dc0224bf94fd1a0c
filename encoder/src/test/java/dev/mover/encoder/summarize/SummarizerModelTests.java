package dev.mover.encoder.summarize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mover.encoder.EncodedText;
import dev.mover.encoder.EncoderConfig;
import dev.mover.encoder.TextEncoder;
import dev.mover.encoder.summarize.Summarizer.Budget;
import dev.mover.encoder.summarize.Summarizer.Mode;
import dev.mover.encoder.summarize.Summarizer.Summary;
import dev.mover.encoder.summarize.Summarizer.Unit;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The summarizer on the real default models' pooled vectors. */
class SummarizerModelTests {

    private static TextEncoder english;
    private static TextEncoder chinese;

    @BeforeAll
    static void open() {
        Path dir = Path.of(System.getProperty("mover.models.dir", "target/models"));
        EncoderConfig cfg = EncoderConfig.builder().intraOpThreads(1).build();
        english = TextEncoder.open(dir.resolve("all-minilm-l6-v2"), cfg);
        chinese = TextEncoder.open(dir.resolve("bge-small-zh-v15"), cfg);
    }

    @AfterAll
    static void close() {
        english.close();
        chinese.close();
    }

    private static SentenceEmbedder pooled(TextEncoder enc) {
        return texts -> enc.encodeBatch(texts).stream().map(EncodedText::pooled).toArray(float[][]::new);
    }

    private static List<String> texts(Summary s) {
        return s.units().stream().map(Unit::text).collect(Collectors.toList());
    }

    @Test
    void testEnglish_whenQueryAboutOneTopic_thenThatSentenceIsSelected() {
        String doc = "The meeting opened at nine. Everyone introduced themselves briefly. "
            + "Marketing asked for a bigger advertising budget for the spring campaign. "
            + "The engineers reported that the remote control prototype now has a rubber case. "
            + "Lunch was served in the cafeteria. The next meeting is on Tuesday.";
        Summarizer s = new Summarizer(pooled(english), Summarizer.Settings.DEFAULT);
        Summary money = s.summarize(doc, "How much money will be spent on ads?", Budget.units(1), Mode.EXTRACT);
        assertEquals(List.of("Marketing asked for a bigger advertising budget for the spring campaign."), texts(money));
        Summary design = s.summarize(doc, "What material is the prototype made of?", Budget.units(1), Mode.EXTRACT);
        assertEquals(List.of("The engineers reported that the remote control prototype now has a rubber case."), texts(design));
        assertTrue(design.units().get(0).relevance() > 0.3, "relevance " + design.units().get(0).relevance());
    }

    @Test
    void testChinese_whenParaphrasedSentences_thenMmrKeepsOnlyOne() {
        String doc = "原告与被告于二〇一五年签订借款合同。被告至今未归还借款本金十万元。被告一直没有还那十万元的借款本金。"
            + "法院认为借款合同合法有效。判决被告于十日内归还本金及利息。";
        Summarizer s = new Summarizer(pooled(chinese), Summarizer.Settings.DEFAULT);
        Summary sum = s.summarize(doc, null, Budget.units(3), Mode.EXTRACT);
        List<String> t = texts(sum);
        assertEquals(3, t.size());
        boolean both = t.contains("被告至今未归还借款本金十万元。") && t.contains("被告一直没有还那十万元的借款本金。");
        assertTrue(!both, "both paraphrases selected: " + t);
        for (int i = 1; i < sum.units().size(); i++) {
            assertTrue(sum.units().get(i).span().start() > sum.units().get(i - 1).span().start());
        }
    }

    @Test
    void testChinese_whenCompressive_thenClausesWithinBudgetAndInOrder() {
        String doc = "经审理查明，原告张三与被告李四系朋友关系，二〇一六年三月，被告向原告借款五万元，约定一年内归还，"
            + "到期后被告未还款。另查明，原告多次催讨，被告均以各种理由推脱。";
        Summarizer s = new Summarizer(pooled(chinese), Summarizer.Settings.DEFAULT);
        Summary sum = s.summarize(doc, "借款", Budget.chars(40), Mode.COMPRESSIVE);
        int total = sum.units().stream().mapToInt(u -> u.span().length()).sum();
        assertTrue(total <= 40 && total > 0, "total " + total);
        assertTrue(sum.units().size() >= 2, texts(sum).toString());
        assertTrue(texts(sum).stream().anyMatch(x -> x.contains("借款")), texts(sum).toString());
    }
}
