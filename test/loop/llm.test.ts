import { describe, expect, it } from 'vitest';
import { claudeProposer, openaiProposer } from '../../src/agent/index.js';
import { startAnthropicServer, startOpenAIServer } from '../helpers/llm-servers.js';
import { node } from '../helpers/node.js';
import { STUB_TRAINER, TRAINER } from '../helpers/paths.js';

const edit = (hypothesis: string, search: string, replace: string) =>
  `HYPOTHESIS: ${hypothesis}\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;

describe('LLM proposers in the loop', () => {
  it('claude: a good edit is applied and trained by the real trainer; garbage and unappliable edits are recorded, and the loop goes on', async () => {
    const good = edit('raise the Muon learning rate', 'MATRIX_LR = 0.02  # Muon learning rate for hidden matrices', 'MATRIX_LR = 0.03  # Muon learning rate for hidden matrices');
    const server = await startAnthropicServer([
      good,
      'I would try a larger model, it usually helps.',
      'Still thinking about it.',
      edit('shrink', 'NOT_IN_THE_FILE = 1', 'NOT_IN_THE_FILE = 2'),
      edit('shrink', 'NOT_IN_THE_FILE = 1', 'NOT_IN_THE_FILE = 2'),
    ]);
    try {
      const n = await node({ trainerDir: TRAINER, budget: 2, proposer: claudeProposer({ model: 'claude-test', apiKey: 'test-key', baseURL: server.url }) });
      const report = await n.run(4);
      expect(report.created).toBe(4);
      const [baseline, tuned, garbage, unappliable] = await n.store.list();

      expect(baseline!.status).toBe('keep');
      expect(tuned!.origin.proposer).toBe('claude:claude-test');
      expect(tuned!.hypothesis).toBe('raise the Muon learning rate');
      expect(tuned!.diff).toContain('+MATRIX_LR = 0.03');
      expect(['keep', 'discard']).toContain(tuned!.status);
      expect(Number.isFinite(tuned!.metrics!.val_bpb)).toBe(true);
      expect(await n.workspace.source(tuned!.commit!)).toContain('MATRIX_LR = 0.03');

      expect(garbage).toMatchObject({ status: 'invalid', commit: null, hash: null });
      expect(garbage!.reason).toMatch(/SEARCH\/REPLACE/);
      expect(unappliable).toMatchObject({ status: 'invalid' });
      expect(unappliable!.reason).toMatch(/NOT_IN_THE_FILE/);

      // The model was shown train.py, program.md and the history, through the real SDK.
      const { authorization, 'x-api-key': apiKey } = server.requests[0]!.headers;
      expect(apiKey ?? authorization).toMatch(/test-key$/);
      expect(server.requests[0]!.text).toContain('MATRIX_LR = 0.02');
      expect(server.requests[0]!.text).toContain('lower val_bpb');
      expect(server.requests.at(-1)!.text).toContain('raise the Muon learning rate');
    } finally {
      await server.close();
    }
  });

  it('openai: a run that dies on a typo gets one automatic repair, which runs next', async () => {
    const typo = edit('scale the loss', 'summary(val_bpb, DEPTH, SEED)', 'summary(val_bpb * scale_factr, DEPTH, SEED)');
    const fixed = edit('raise the Muon learning rate', 'MATRIX_LR = 0.02  # Muon learning rate', 'MATRIX_LR = 0.03  # Muon learning rate');
    const other = edit('raise the embedding learning rate', 'EMBEDDING_LR = 0.3  # AdamW learning rate of the embeddings', 'EMBEDDING_LR = 0.4  # AdamW learning rate of the embeddings');
    let drafts = 0;
    const server = await startOpenAIServer((req) => {
      if (req.text.includes('NameError')) return fixed;
      return drafts++ === 0 ? typo : other;
    });
    try {
      const n = await node({ trainerDir: STUB_TRAINER, budget: 1, proposer: openaiProposer({ model: 'local-model', baseURL: server.url, apiKey: 'none' }) });
      await n.run(3);
      const [, crashed, repaired] = await n.store.list();
      expect(crashed).toMatchObject({ status: 'crash', outcome: 'crash' });
      expect(crashed!.reason).toMatch(/NameError/);
      expect(crashed!.logTail.join('\n')).toMatch(/scale_factr/);
      expect(repaired!.origin).toEqual({ kind: 'repair', proposer: 'openai:local-model' });
      expect(repaired!.diff).toContain('+MATRIX_LR = 0.03');
      expect(repaired!.status).toBe('keep');
      expect(server.requests[0]!.body.model).toBe('local-model');
    } finally {
      await server.close();
    }
  });
});
