/**
 * Clerk's middleware (Next.js 16 calls it a proxy): it reads the session on every request so that `auth()` in
 * server components and route handlers knows who is signed in.
 */
import { clerkMiddleware } from '@clerk/nextjs/server';

export default clerkMiddleware();

export const config = {
  // Every page and API route, not Next's own files and static assets.
  matcher: [
    '/((?!_next|[^?]*\\.(?:html?|css|js(?!on)|jpe?g|webp|png|gif|svg|ttf|woff2?|ico|csv|docx?|xlsx?|zip|webmanifest)).*)',
    '/(api|trpc)(.*)',
  ],
};
