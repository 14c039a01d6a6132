/** InspirationReport: stage 1's two inspirations, stored as six columns, served as a list of two. */
import { builder } from './builder';

interface Inspiration {
  title: string;
  content: string;
  elements: string[];
}

const InspirationType = builder.objectRef<Inspiration>('Inspiration').implement({
  description: 'One inspiration drawn from the trend report',
  fields: (t) => ({
    title: t.exposeString('title', { description: "The inspiration's name" }),
    content: t.exposeString('content', { description: 'What the inspiration says' }),
    elements: t.exposeStringList('elements', { description: 'Key elements of this inspiration' }),
  }),
});

export const InspirationReport = builder.prismaObject('InspirationReport', {
  description: 'Stage 1 of a run: two inspirations drawn from the trend report',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id', { description: "The report's id (a UUID)" }),
    inspirations: t.field({
      type: [InspirationType],
      description: 'The two inspirations, in order',
      select: {
        inspiration1Title: true,
        inspiration1Content: true,
        inspiration1Elements: true,
        inspiration2Title: true,
        inspiration2Content: true,
        inspiration2Elements: true,
      },
      resolve: (report) => [
        { title: report.inspiration1Title, content: report.inspiration1Content, elements: report.inspiration1Elements },
        { title: report.inspiration2Title, content: report.inspiration2Content, elements: report.inspiration2Elements },
      ],
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the pipeline wrote the report' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the report last changed' }),
  }),
});
