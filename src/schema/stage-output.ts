/** StageOutput: the raw output of one pipeline stage (markdown, and parsed JSON when the stage has it). */
import { builder } from './builder';

export const StageOutput = builder.prismaObject('StageOutput', {
  description: 'The raw output of one of the five pipeline stages of a run',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id', { description: "The output's id (a UUID)" }),
    stageNumber: t.exposeInt('stageNumber', { description: '1 to 5' }),
    markdownOutput: t.exposeString('markdownOutput', { description: "The stage's full output, as Markdown" }),
    jsonOutput: t.expose('jsonOutput', { type: 'JSON', nullable: true, description: 'Structured data parsed from the stage, if any' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the stage finished' }),
  }),
});
