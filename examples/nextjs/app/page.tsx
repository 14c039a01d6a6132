/**
 * The dashboard, rendered on the server for the signed-in user: the first page of their runs is read with the
 * request's own client (Clerk's token) and handed to the client component's cache, which keeps it live.
 */
import { Suspense } from 'react';
import { PreloadQuery } from '../lib/apollo/server-client';
import { DashboardRunsDocument } from '../lib/operations';
import { RunsDashboard, PAGE_SIZE } from './runs-dashboard';

export default function Page() {
  return (
    <main>
      <h1>Your runs</h1>
      <PreloadQuery query={DashboardRunsDocument} variables={{ first: PAGE_SIZE }}>
        <Suspense fallback={<p>Loading…</p>}>
          <RunsDashboard />
        </Suspense>
      </PreloadQuery>
    </main>
  );
}
