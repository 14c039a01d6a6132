import { ClerkProvider } from '@clerk/nextjs';
import type { ReactNode } from 'react';
import { ApolloWrapper } from '../lib/apollo/browser-client';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <ClerkProvider>
      <html lang="en">
        <body>
          <ApolloWrapper>{children}</ApolloWrapper>
        </body>
      </html>
    </ClerkProvider>
  );
}
