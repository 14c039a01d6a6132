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
    title: t.exposeString('title'),
    content: t.exposeString('content'),
    elements: t.exposeStringList('elements', { description: 'Key elements of this inspiration' }),
  }),
});

export const InspirationReport = builder.prismaObject('InspirationReport', {
  description: 'Stage 1 of a run: two inspirations drawn from the trend report',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id'),
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
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});
