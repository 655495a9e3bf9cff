/** The host↔runner wire contract. */
package dev.cordon.protocol;
